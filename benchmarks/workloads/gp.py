"""gp: the negative log-likelihood of a Gaussian process, gradient w.r.t. 3 hyperparameters.

    K = s2 · exp(-d² / (2 l²)) + noise · I,     L = cholesky(K),     z = L⁻¹ y
    nll = ½ z·z + Σ log diag L + (N/2) log 2π

written with np.linalg.cholesky and np.linalg.solve, as a NumPy user would. The time is
O(N³) linear algebra, so this measures whether an AD system's matrix rules cost more than
the analytic gradient

    ∂nll/∂θ = ½ tr((K⁻¹ − a aᵀ) ∂K/∂θ),     a = K⁻¹ y.

NumPy has no triangular inverse, so the hand-written baseline gets K⁻¹ from L with a general
inverse (about 4.3 N³ flops in all). Where SciPy is installed a second hand-written entry
uses LAPACK's potri on L instead (about N³): the better of the two is what a careful user
would write, and its row shows how much slack the NumPy-only baseline leaves.
"""
import numpy as np

from ..harness import Case, Contender, NotInstalled, Prepared, as_float64_tuple
from ..peers import baseline, standard, wengert_compiled

NAME = "gp"
TITLE = "gp: Gaussian-process negative log-likelihood, gradient w.r.t. (s2, lengthscale, noise)"
UNIT = None
LOG_2PI = float(np.log(2 * np.pi))


def loss(xp, data, theta):
    s2, lengthscale, noise = theta[0], theta[1], theta[2]
    k = s2 * xp.exp(-data["d2"] / (2 * lengthscale ** 2)) + noise * data["eye"]
    chol = xp.linalg.cholesky(k)
    z = xp.linalg.solve(chol, data["y"])
    n = data["y"].shape[0]
    # diag(L) spelled with axes (-1, -2), the same diagonal for a matrix: the only spelling
    # autograd differentiates.
    log_det = 2 * xp.sum(xp.log(xp.diagonal(chol, 0, -1, -2)))
    return 0.5 * (z @ z) + 0.5 * log_det + 0.5 * n * LOG_2PI


# --- the hand-written gradient --------------------------------------------------------------------

def gradient_by_hand(data, theta):
    return _analytic_gradient(data, theta, _inverse_from_cholesky_numpy)


def gradient_by_hand_scipy(data, theta):
    return _analytic_gradient(data, theta, _inverse_from_cholesky_lapack)


def _analytic_gradient(data, theta, inverse_from_cholesky):
    s2, lengthscale, noise = theta
    d2, y = data["d2"], data["y"]
    shape = np.exp(-d2 / (2 * lengthscale ** 2))            # ∂K/∂s2
    k = s2 * shape + noise * data["eye"]
    chol = np.linalg.cholesky(k)
    k_inv = inverse_from_cholesky(chol)
    a = k_inv @ y
    # The value, as the AD systems compute it.
    0.5 * (y @ a) + np.sum(np.log(np.diagonal(chol))) + 0.5 * len(y) * LOG_2PI
    w = k_inv - np.outer(a, a)
    # tr(W ∂K) = Σ W ⊙ ∂K for symmetric W and ∂K; ∂K/∂noise = I.
    d_s2 = 0.5 * np.sum(w * shape)
    d_lengthscale = 0.5 * s2 * np.sum(w * shape * d2) / lengthscale ** 3
    d_noise = 0.5 * np.trace(w)
    return (np.array([d_s2, d_lengthscale, d_noise]),)


def _inverse_from_cholesky_numpy(chol):
    chol_inv = np.linalg.inv(chol)
    return chol_inv.T @ chol_inv


def _inverse_from_cholesky_lapack(chol):
    from scipy.linalg import lapack

    lower, info = lapack.dpotri(chol, lower=1)     # only the lower triangle is written
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed (info={info})")
    return np.tril(lower) + np.tril(lower, -1).T


def _scipy_baseline():
    def build(case):
        try:
            import scipy.linalg  # noqa: F401
        except ImportError:
            raise NotInstalled("scipy") from None
        return Prepared(lambda: gradient_by_hand_scipy(case.data, *case.params),
                        as_float64_tuple, "K⁻¹ by LAPACK potri")

    return Contender("numpy+scipy (hand-written)", build)


# --- cases --------------------------------------------------------------------------------------

def make_case(n, seed=0):
    """n points in a 5×5 square, a smooth function plus noise, hyperparameters near the fit."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 5, size=(n, 2))
    y = np.sin(points[:, 0]) * np.cos(points[:, 1]) + 0.3 * rng.standard_normal(n)
    d2 = np.sum((points[:, None, :] - points[None, :, :]) ** 2, axis=-1)
    data = {"d2": d2, "y": y, "eye": np.eye(n)}
    theta = np.array([1.0, 0.7, 0.1])
    return Case(f"N = {n}", data, (theta,))


def cases(quick):
    return [make_case(n) for n in ((100, 200) if quick else (1000, 2000))]


def contenders(options):
    return [baseline(gradient_by_hand), _scipy_baseline(), *standard(loss),
            wengert_compiled(loss)]
