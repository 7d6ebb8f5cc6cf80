"""scipy.stats.multivariate_normal (logpdf and pdf in x, mean and cov) and scipy.stats.dirichlet
(logpdf and pdf in x and alpha), also frozen: ``multivariate_normal(mean, cov).logpdf(x)``.

The normal density goes through a Cholesky factor of cov (SciPy's goes through eigh), so its
gradient in cov is symmetric, as for any function of a symmetric matrix in wengert (see the
linear algebra page): what you want when cov is built symmetric. A diagonal (1-D) or scalar
cov is used as it is, without a factorization.
"""
import numpy as np
import scipy.special as special
import scipy.stats as stats

from ..arraytypes import concrete
from ..errors import DifferentiationError
from ._helpers import as_array, dtype_of, shape_of, zeros_like_value
from .scipy_stats_doors import define

_LOG_2PI = np.log(2 * np.pi)


def _float(x):
    x = as_array(x)
    return x if dtype_of(x) == np.float64 else x.astype(np.float64)


# --- multivariate_normal -------------------------------------------------------------------

def mvn_logpdf(x, mean=None, cov=1, allow_singular=False):
    """SciPy's multivariate_normal.logpdf on traced values."""
    if isinstance(cov, stats.Covariance):
        raise DifferentiationError(
            "scipy.stats.multivariate_normal.logpdf is differentiable with cov given as an "
            "array (full, diagonal or scalar), not as a scipy.stats.Covariance object.")
    dim, mean, cov = _mvn_parameters(mean, cov)
    x = _float(x)
    if np.ndim(concrete(x)) == 0:   # SciPy's _process_quantiles: the last axis is dim
        x = np.reshape(x, (1,))
    if np.ndim(concrete(x)) == 1:
        x = np.reshape(x, (-1, 1) if dim == 1 else (1, -1))
    if shape_of(x)[-1] != dim:
        raise ValueError(f"scipy.stats.multivariate_normal: the last axis of x has length "
                         f"{shape_of(x)[-1]}, the distribution's dimension is {dim}.")
    deviation = x - mean
    if np.ndim(concrete(cov)) == 2:
        try:
            factor = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise _not_positive_definite(allow_singular) from None
        log_det = 2 * np.sum(np.log(np.diagonal(factor)))
        # one solve with every point as a column, not a stack of one-column solves
        whitened = np.linalg.solve(factor, np.reshape(deviation, (-1, dim)).T)
        mahalanobis = np.reshape(np.sum(whitened**2, axis=0), shape_of(deviation)[:-1])
    else:   # a diagonal or a multiple of the identity: no factorization needed
        if np.any(concrete(cov) <= 0):
            raise _not_positive_definite(allow_singular)
        log_det = np.sum(np.log(cov)) if np.ndim(concrete(cov)) else dim * np.log(cov)
        mahalanobis = np.sum(deviation**2 / cov, axis=-1)
    return np.squeeze(-0.5 * (dim * _LOG_2PI + log_det + mahalanobis))


def _mvn_parameters(mean, cov):
    """SciPy's dimension inference and checks: the dimension, mean as a vector, cov as a
    matrix, a vector (its diagonal) or a scalar (a multiple of the identity)."""
    cov = _float(1.0 if cov is None else cov)
    if mean is None:
        dim = 1 if np.ndim(concrete(cov)) < 2 else shape_of(cov)[0]
        mean = zeros_like_value(cov, shape=(dim,))
    mean = _float(mean)
    dim = int(np.size(concrete(mean)))
    if dim == 1:
        mean, cov = np.reshape(mean, (1,)), np.reshape(cov, (1, 1))
    if np.ndim(concrete(mean)) != 1:
        raise ValueError(f"Array 'mean' must be a vector of length {dim}.")
    if np.ndim(concrete(cov)) > 2 or np.shape(concrete(cov)) not in ((), (dim,), (dim, dim)):
        raise ValueError(f"Dimension mismatch: array 'cov' is of shape "
                         f"{np.shape(concrete(cov))}, but 'mean' is a vector of length {dim}.")
    return dim, mean, cov


def _not_positive_definite(allow_singular):
    if allow_singular:
        return DifferentiationError(
            "scipy.stats.multivariate_normal.logpdf is differentiable for a positive definite "
            "cov only: a singular one has no derivative in wengert (the density lives on a "
            "subspace). Differentiate with a positive definite cov.")
    return ValueError("scipy.stats.multivariate_normal: cov must be positive definite.")


def mvn_pdf(x, mean=None, cov=1, allow_singular=False):
    return np.exp(mvn_logpdf(x, mean, cov, allow_singular))


# --- dirichlet -----------------------------------------------------------------------------

def dirichlet_logpdf(dist, x, alpha):
    """SciPy's dirichlet.logpdf on traced values: x holds the components along its first
    axis, all K of them or K - 1 (the last is then one minus their sum)."""
    x, alpha = as_array(x), as_array(alpha)
    _DIRICHLET_LOGPDF(dist, concrete(x), concrete(alpha))   # SciPy's own checks of the input
    if shape_of(x)[0] == shape_of(alpha)[0] - 1:
        x = np.concatenate([x, (1 - np.sum(x, axis=0))[None]])
    log_normalizer = np.sum(special.gammaln(alpha)) - special.gammaln(np.sum(alpha))
    return np.squeeze(-log_normalizer + np.sum(special.xlogy(alpha - 1, x.T).T, axis=0))


def dirichlet_pdf(dist, x, alpha):
    return np.exp(dirichlet_logpdf(dist, x, alpha))


# --- frozen forms ----------------------------------------------------------------------------

class TracedFrozen:
    """What ``multivariate_normal(mean, cov)`` or ``dirichlet(alpha)`` returns when a
    parameter is traced: the differentiable methods, logpdf and pdf."""

    def __init__(self, name, logpdf, parameters):
        self._name, self._logpdf, self._parameters = name, logpdf, parameters

    def logpdf(self, x):
        return self._logpdf(x, *self._parameters)

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def __getattr__(self, attribute):
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        raise DifferentiationError(
            f"scipy.stats.{self._name}(...) with traced parameters offers logpdf and pdf, the "
            f"methods wengert differentiates; not {attribute}. Freeze it with constant "
            "parameters (wg.stop_gradient) for the others.")


def _mvn_frozen(dist, mean=None, cov=1, allow_singular=False, seed=None, **cdf_options):
    return TracedFrozen("multivariate_normal", mvn_logpdf, (mean, cov, allow_singular))


def _dirichlet_frozen(dist, alpha, seed=None):
    return TracedFrozen("dirichlet", lambda x, alpha: dirichlet_logpdf(dist, x, alpha),
                        (alpha,))


_MVN = type(stats.multivariate_normal)
_MVN_FROZEN = type(stats.multivariate_normal([0.0]))   # SciPy names the class privately only
_DIRICHLET = type(stats.dirichlet)
_DIRICHLET_LOGPDF = getattr(_DIRICHLET.logpdf, "_scipy_method", _DIRICHLET.logpdf)

define(_MVN, "logpdf", lambda dist, *args, **kwargs: mvn_logpdf(*args, **kwargs))
define(_MVN, "pdf", lambda dist, *args, **kwargs: mvn_pdf(*args, **kwargs))
define(_MVN, "__call__", _mvn_frozen)
# A frozen distribution made of constants, called on a traced x (its logpdf is its own code;
# the frozen dirichlet calls dirichlet.logpdf, whose door serves it).
define(_MVN_FROZEN, "logpdf", lambda frozen, x: mvn_logpdf(
    x, frozen.mean, frozen.cov, frozen.allow_singular))
define(_MVN_FROZEN, "pdf", lambda frozen, x: mvn_pdf(
    x, frozen.mean, frozen.cov, frozen.allow_singular))
define(_DIRICHLET, "logpdf", dirichlet_logpdf)
define(_DIRICHLET, "pdf", dirichlet_pdf)
define(_DIRICHLET, "__call__", _dirichlet_frozen)
