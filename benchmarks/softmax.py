"""scipy.special's logsumexp, softmax and log_softmax on 10⁶ elements: wengert's gradient
against the hand-written NumPy gradient, medians of interleaved repeats, one BLAS thread.

    python3 benchmarks/softmax.py
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.special as sc  # noqa: E402

import wengert as wg  # noqa: E402

rng = np.random.default_rng(0)
x = rng.standard_normal(10**6)
w = rng.standard_normal(10**6)


def softmax_by_hand(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def softmax_gradient_by_hand(x):
    p = softmax_by_hand(x)
    return p * (w - w @ p)


CASES = {
    "logsumexp(x)": (lambda: wg.gradient(sc.logsumexp, x)[0], lambda: softmax_by_hand(x)),
    "w @ softmax(x)": (lambda: wg.gradient(lambda x: w @ sc.softmax(x), x)[0],
                       lambda: softmax_gradient_by_hand(x)),
    "w @ log_softmax(x)": (lambda: wg.gradient(lambda x: w @ sc.log_softmax(x), x)[0],
                           lambda: w - np.sum(w) * softmax_by_hand(x)),
}


def main(repeats=15):
    print(f"{'gradient of':22s} {'wengert':>10s} {'by hand':>10s} {'ratio':>7s}")
    for name, (by_wengert, by_hand) in CASES.items():
        np.testing.assert_allclose(by_wengert(), by_hand(), rtol=1e-9, atol=1e-12)
        times = {by_wengert: [], by_hand: []}
        for _ in range(repeats):
            for f in times:
                start = time.perf_counter()
                f()
                times[f].append(time.perf_counter() - start)
        t_ad, t_hand = np.median(times[by_wengert]), np.median(times[by_hand])
        print(f"{name:22s} {t_ad * 1e3:8.2f}ms {t_hand * 1e3:8.2f}ms {t_ad / t_hand:6.2f}x")


if __name__ == "__main__":
    main()
