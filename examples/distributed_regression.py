"""Logistic regression on a Dask cluster, with data larger than any worker's memory.

The data (3.2 GB by default, more than both workers together may hold) is never held
anywhere whole: Dask generates it chunk by chunk with ``da.random`` wherever a task needs
it. wengert differentiates the loss, written in plain NumPy, into one more lazy Dask graph;
each step of ``scipy.optimize.minimize`` computes the loss and its gradient together on the
cluster's workers, which hold 1 GB each.

    python examples/distributed_regression.py            # 2,500,000 x 160 (3.2 GB), minutes
    python examples/distributed_regression.py --quick    # 20,000 x 20, seconds
    (or WENGERT_EXAMPLE_QUICK=1)
"""
import os
import resource
import sys
import time

import numpy as np
import scipy.optimize
import dask
import dask.array as da
from dask.distributed import Client, LocalCluster

import wengert as wg

QUICK = "--quick" in sys.argv or bool(os.environ.get("WENGERT_EXAMPLE_QUICK"))
ROWS, FEATURES, CHUNK_ROWS = (20_000, 20, 5_000) if QUICK else (2_500_000, 160, 62_500)
PENALTY = 1e-3


def make_data(seed=0):
    """Features and labels (±1) of a noisy linear classifier, all lazy: nothing is generated
    until a task needs its chunk."""
    state = da.random.RandomState(seed)
    x = state.standard_normal((ROWS, FEATURES), chunks=(CHUNK_ROWS, FEATURES))
    w_true = np.random.default_rng(seed).standard_normal(FEATURES)
    noise = state.standard_normal(ROWS, chunks=CHUNK_ROWS)
    y = np.sign(x @ w_true + 0.5 * noise)
    return x, y


def loss(w, x, y):
    """Mean logistic loss with an L2 penalty: plain NumPy, run by Dask on Dask arrays."""
    return np.mean(np.logaddexp(0.0, -y * (x @ w))) + 0.5 * PENALTY * np.sum(w * w)


def hand_written_gradient(w, x, y):
    margin = -y * (x @ w)
    return x.T @ (-y / (1.0 + np.exp(-margin))) / ROWS + PENALTY * w


def peak_memory_mb():
    """This process's peak resident memory (run on each worker)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit(client, x, y):
    value_and_grad = wg.value_and_grad(loss)
    history = []

    def objective(w):
        # A Dask copy of the parameters keeps the whole gradient lazy: the loss and the
        # gradient are then computed in one pass over the data, sharing x @ w.
        value, grad = value_and_grad(da.from_array(w), x, y)
        value, grad = dask.compute(value, grad)
        history.append(float(value))
        return float(value), np.asarray(grad, dtype=float)

    def report(w):
        print(f"  iteration {len(report.seen):3d}   loss {history[-1]:.6f}", flush=True)
        report.seen.append(w)

    report.seen = []
    start = time.perf_counter()
    result = scipy.optimize.minimize(objective, np.zeros(FEATURES), jac=True,
                                     method="L-BFGS-B", callback=report,
                                     options={"maxiter": 30 if QUICK else 15})
    return result, history, time.perf_counter() - start


def main():
    size_gb = ROWS * FEATURES * 8 / 1e9
    print(f"data: {ROWS:,} x {FEATURES} float64 = {size_gb:.2f} GB, in chunks of "
          f"{CHUNK_ROWS:,} rows; 2 workers with 1 GB each")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GB",
                      host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        x, y = make_data()
        result, history, seconds = fit(client, x, y)
        print(f"{result.nit} iterations, {len(history)} loss-and-gradient evaluations in "
              f"{seconds:.1f} s; final loss {result.fun:.6f} ({result.message})")
        w = result.x
        accuracy = float(np.mean(np.sign(x @ w) == y).compute())
        print(f"training accuracy {accuracy:.3f}")
        for address, mb in sorted(client.run(peak_memory_mb).items()):
            print(f"peak memory of worker {address}: {mb:.0f} MB")
        # The derivative is the hand-written one, computed on the same cluster.
        ours = wg.gradient(loss, da.from_array(w), x, y)[0]
        theirs = hand_written_gradient(da.from_array(w), x, y)
        ours, theirs = dask.compute(ours, theirs)
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)
        assert history[-1] < 0.7 * history[0] and accuracy > 0.8
        print("gradient matches the hand-written one")


if __name__ == "__main__":
    main()
