"""gp_scipy: the Gaussian-process negative log-likelihood of gp.py, written as SciPy users
write it, gradient w.r.t. the same 3 hyperparameters.

    K = s2 · exp(-d² / (2 l²)) + noise · I
    L = cholesky(K, lower=True),     z = solve_triangular(L, y, lower=True)
    nll = ½ z·z + Σ log diag L + (N/2) log 2π

The data, cases and hand-written analytic gradient are gp.py's, so the rows of the two tables
compare: this one measures wengert's rules for scipy.linalg.cholesky (one triangle read) and
solve_triangular where gp measures np.linalg.cholesky and np.linalg.solve. JAX runs the same
code through jax.scipy.linalg and PyTorch through torch.linalg's cholesky and
solve_triangular; autograd has no SciPy namespace with these derivatives, so it does not run
here (gp.py has its row).
"""
import numpy as np

from ..harness import Contender, NotInstalled, Prepared, Skip, as_float64_tuple
from ..peers import baseline, standard
from . import gp

NAME = "gp_scipy"
TITLE = ("gp_scipy: gp's likelihood through scipy.linalg.cholesky(lower=True) and "
         "solve_triangular, gradient w.r.t. (s2, lengthscale, noise)")
UNIT = None
LOG_2PI = gp.LOG_2PI


def _scipy_linalg(xp):
    """The SciPy linear algebra that goes with an array namespace."""
    if xp is np:
        try:
            import scipy.linalg
        except ImportError:
            raise NotInstalled("scipy") from None
        return scipy.linalg
    if xp.__name__.startswith("jax"):
        import jax.scipy.linalg

        return jax.scipy.linalg
    if xp.__name__ == "torch":
        return _TorchLinalg(xp)
    raise Skip(f"{xp.__name__} has no scipy.linalg")


class _TorchLinalg:
    """The two SciPy calls, spelled with PyTorch's own (torch.linalg), so that PyTorch runs
    the same likelihood: a PyTorch user would write exactly these."""

    def __init__(self, torch):
        self.torch = torch

    def cholesky(self, k, lower=True):
        chol = self.torch.linalg.cholesky(k)
        return chol if lower else chol.mT

    def solve_triangular(self, a, b, lower=True):
        return self.torch.linalg.solve_triangular(a, b[:, None], upper=not lower)[:, 0]


def loss(xp, data, theta):
    linalg = _scipy_linalg(xp)
    s2, lengthscale, noise = theta[0], theta[1], theta[2]
    k = s2 * xp.exp(-data["d2"] / (2 * lengthscale ** 2)) + noise * data["eye"]
    chol = linalg.cholesky(k, lower=True)
    z = linalg.solve_triangular(chol, data["y"], lower=True)
    n = data["y"].shape[0]
    return 0.5 * (z @ z) + xp.sum(xp.log(xp.diagonal(chol))) + 0.5 * n * LOG_2PI


# The hand-written gradient is gp's: ½ tr((K⁻¹ - a aᵀ) ∂K/∂θ), K⁻¹ from the Cholesky factor.
gradient_by_hand = gp.gradient_by_hand


def cases(quick):
    return gp.cases(quick)


def contenders(options):
    no_scipy = "no SciPy namespace with derivatives of cholesky and solve_triangular"
    return [baseline(gradient_by_hand), _scipy_baseline(),
            *standard(loss, skip={"autograd": no_scipy})]


def _scipy_baseline():
    def build(case):
        _scipy_linalg(np)
        return Prepared(lambda: gp.gradient_by_hand_scipy(case.data, *case.params),
                        as_float64_tuple, "K⁻¹ by LAPACK potri")

    return Contender("numpy+scipy (hand-written)", build)
