"""Gradients on a GPU: wengert on CuPy arrays against hand-written CuPy and PyTorch (CUDA).

Two workloads, each timed as the median of several runs after a warm-up, with the device
synchronized around every run:

- GP: the negative log marginal likelihood of a Gaussian process with an RBF kernel,
  N = 8192 points (float64), gradient with respect to the log length scale, log signal
  variance and log noise variance;
- MLP: a two-layer network with 4096 x 4096 weights (float32), batch 4096, gradient of the
  mean squared error with respect to both weight matrices.

    python benchmarks/gpu.py [--repeat R] [--gp-n N] [--mlp-n N]

Needs CuPy and a CUDA device; PyTorch's column is left out when torch has no CUDA.
"""
import argparse
import statistics
import time

import numpy as np

import wengert as wg


def timed(run, sync, repeat):
    run()
    sync()
    times = []
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- Gaussian process ----------------------------------------------------------------------------

def gp_loss(theta, x, y):
    log_length, log_signal, log_noise = theta[0], theta[1], theta[2]
    sq = np.sum(x * x, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * (x @ x.T), 0.0)
    k = np.exp(log_signal) * np.exp(-0.5 * d2 / np.exp(2 * log_length))
    k = k + np.exp(log_noise) * np.eye(x.shape[0], like=x)
    l = np.linalg.cholesky(k)
    alpha = np.linalg.solve(k, y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diagonal(l)))


def gp_hand_written(xp, theta, x, y):
    """The loss's gradient: ½ tr((K⁻¹ - ααᵀ) ∂K) per hyperparameter."""
    log_length, log_signal, log_noise = (float(t) for t in theta)
    sq = xp.sum(x * x, axis=1)
    d2 = xp.maximum(sq[:, None] + sq[None, :] - 2 * (x @ x.T), 0.0)
    k_rbf = xp.exp(log_signal) * xp.exp(-0.5 * d2 / xp.exp(2 * log_length))
    k = k_rbf + xp.exp(log_noise) * xp.eye(x.shape[0])
    k_inv = xp.linalg.inv(k)
    alpha = k_inv @ y
    inner = k_inv - xp.outer(alpha, alpha)
    d_length = k_rbf * d2 / xp.exp(2 * log_length)
    return xp.stack([0.5 * xp.sum(inner * d_length), 0.5 * xp.sum(inner * k_rbf),
                     0.5 * xp.exp(log_noise) * xp.trace(inner)])


# --- MLP -----------------------------------------------------------------------------------------

def mlp_loss(w1, w2, x, y):
    return np.mean((np.tanh(x @ w1) @ w2 - y) ** 2)


def mlp_hand_written(xp, w1, w2, x, y):
    h = xp.tanh(x @ w1)
    r = h @ w2 - y
    dr = 2 * r / r.size
    dh = (dr @ w2.T) * (1 - h * h)
    return x.T @ dh, h.T @ dr


def _cupy_on_a_device():
    """CuPy where it and a CUDA device are there; None, saying what is missing, elsewhere."""
    try:
        import cupy as cp
    except ImportError:
        missing = "CuPy is not installed (pip install cupy-cuda12x)"
    else:
        try:
            if cp.cuda.runtime.getDeviceCount() > 0:
                return cp
            missing = "no CUDA device is present"
        except Exception as error:   # no driver or no runtime: CuPy's own error says which
            missing = f"no CUDA device is usable ({error})"
    print(f"benchmarks/gpu.py measures nothing here: {missing}.")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--gp-n", type=int, default=8192)
    parser.add_argument("--mlp-n", type=int, default=4096)
    options = parser.parse_args()
    cp = _cupy_on_a_device()
    if cp is None:
        return
    sync = cp.cuda.Device().synchronize
    rng = np.random.default_rng(0)

    x = cp.asarray(rng.uniform(-3, 3, (options.gp_n, 2)))
    y = cp.sin(x[:, 0]) + 0.1 * cp.asarray(rng.standard_normal(options.gp_n))
    theta = cp.asarray([0.0, 0.0, -2.0])
    n = options.mlp_n
    w1 = cp.asarray(rng.standard_normal((n, n)) / np.sqrt(n), dtype=cp.float32)
    w2 = cp.asarray(rng.standard_normal((n, n)) / np.sqrt(n), dtype=cp.float32)
    xb = cp.asarray(rng.standard_normal((n, n)), dtype=cp.float32)
    yb = cp.asarray(rng.standard_normal((n, n)), dtype=cp.float32)

    rows = {
        f"GP N={options.gp_n} (float64)": (
            lambda: wg.gradient(gp_loss, theta, x, y)[0],
            lambda: gp_hand_written(cp, theta, x, y)),
        f"MLP {n}x{n} (float32)": (
            lambda: wg.gradient(mlp_loss, w1, w2, xb, yb)[:2],
            lambda: mlp_hand_written(cp, w1, w2, xb, yb)),
    }
    torch_rows = _torch_rows(options, theta, x, y, (w1, w2, xb, yb))
    print(f"median of {options.repeat} runs, seconds (ratio to hand-written CuPy)")
    for name, (ours, theirs) in rows.items():
        t_theirs = timed(theirs, sync, options.repeat)
        try:
            t_ours = timed(ours, sync, options.repeat)
            ours_text = f"{t_ours:.4f} ({t_ours / t_theirs:.2f}x)"
        except wg.DifferentiationError as error:
            ours_text = f"refused: {str(error)[:80]}"
        line = f"{name:28s} CuPy {t_theirs:.4f}  wengert {ours_text}"
        if name in torch_rows:
            t_torch = timed(*torch_rows[name], options.repeat)
            line += f"  PyTorch {t_torch:.4f} ({t_torch / t_theirs:.2f}x)"
        print(line)


def _torch_rows(options, theta, x, y, mlp):
    """PyTorch's autograd on the same arrays (shared through DLPack), where CUDA works."""
    try:
        import torch
    except ImportError:
        return {}
    if not torch.cuda.is_available():
        return {}
    sync = torch.cuda.synchronize
    t_x, t_y = torch.from_dlpack(x), torch.from_dlpack(y)
    t_theta = torch.from_dlpack(theta).clone().requires_grad_()

    def gp():
        log_length, log_signal, log_noise = t_theta[0], t_theta[1], t_theta[2]
        d2 = torch.cdist(t_x, t_x) ** 2
        k = torch.exp(log_signal) * torch.exp(-0.5 * d2 / torch.exp(2 * log_length))
        k = k + torch.exp(log_noise) * torch.eye(t_x.shape[0], device=t_x.device,
                                                 dtype=t_x.dtype)
        l = torch.linalg.cholesky(k)
        alpha = torch.cholesky_solve(t_y[:, None], l)[:, 0]
        loss = 0.5 * t_y @ alpha + torch.sum(torch.log(torch.diagonal(l)))
        return torch.autograd.grad(loss, t_theta)

    w1, w2, xb, yb = (torch.from_dlpack(a) for a in mlp)
    w1, w2 = w1.clone().requires_grad_(), w2.clone().requires_grad_()

    def network():
        loss = torch.mean((torch.tanh(xb @ w1) @ w2 - yb) ** 2)
        return torch.autograd.grad(loss, (w1, w2))

    return {f"GP N={options.gp_n} (float64)": (gp, sync),
            f"MLP {options.mlp_n}x{options.mlp_n} (float32)": (network, sync)}


if __name__ == "__main__":
    main()
