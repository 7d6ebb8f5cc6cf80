"""Rules for scipy.stats, loaded when the program imports scipy.stats (see _reach).

The distributions' methods get doors (scipy_stats_doors): a call without traced values runs
SciPy's method, a traced one the distribution's definition below. The definitions follow
SciPy's private ones (``_logpdf``, ``_cdf``, ...) in NumPy and scipy.special, on
z = (x - loc) / scale, so their values agree with SciPy's to rounding. Outside the support
the value is SciPy's (-inf, 0 or 1), and NaN for invalid parameters; the formula runs there
on a safe point inside the support, so that no infinity or NaN of a point outside reaches the
derivatives of the points inside.

This module holds the continuous distributions with location and scale; the discrete ones
are in scipy_stats_discrete, multivariate_normal and dirichlet in scipy_stats_multivariate.
"""
import functools

import numpy as np
import scipy.special as special
import scipy.stats as stats

from . import scipy_stats_discrete, scipy_stats_multivariate  # noqa: F401  (their doors)
from .scipy_stats_doors import (arguments, at_least_float64, define, logical_and, refuse_traced,
                                shape_names)

_SQRT_2PI = np.sqrt(2 * np.pi)
_LOG_SQRT_2PI = np.log(_SQRT_2PI)
_LOG_PI = np.log(np.pi)


# --- standardized densities ----------------------------------------------------------------

def norm_logpdf(z):
    return -z**2 / 2.0 - _LOG_SQRT_2PI


def norm_pdf(z):
    return np.exp(-z**2 / 2.0) / _SQRT_2PI


def t_logpdf(z, df):
    infinite = df == np.inf   # Student's t with ν = ∞ is the normal distribution
    df = np.where(infinite, 1.0, df)
    # log Γ((ν+1)/2) / Γ(ν/2) as SciPy writes it (a gammaln difference loses digits at large ν)
    t = (np.log(special.poch(0.5 * df, 0.5)) - 0.5 * (np.log(df) + _LOG_PI)
         - (df + 1) / 2 * np.log1p(z * z / df))
    return np.where(infinite, norm_logpdf(z), t)


def t_pdf(z, df):
    return np.exp(t_logpdf(z, df))


def gamma_logpdf(z, a):
    return special.xlogy(a - 1.0, z) - z - special.gammaln(a)


def beta_logpdf(z, a, b):
    return special.xlog1py(b - 1.0, -z) + special.xlogy(a - 1.0, z) - special.betaln(a, b)


def chi2_logpdf(z, df):
    return special.xlogy(df / 2. - 1, z) - z / 2. - special.gammaln(df / 2.) - np.log(2) * df / 2.


def logistic_logpdf(z):
    u = np.where(z >= 0, z, -z)   # |z|, written to be smooth through 0, as the density is
    return -u - 2. * np.log1p(np.exp(-u))


def cauchy_logpdf(z):
    u = np.where(z >= 0, z, -z)
    near = u < 1   # far out, log1p(z²) would overflow: SciPy writes it as 2 log|z| + ...
    u_near, u_far = np.where(near, u, 0.0), np.where(near, 1.0, u)
    return np.where(near, -_LOG_PI - np.log1p(u_near**2),
                    -_LOG_PI - (2 * np.log(u_far) + np.log1p((1 / u_far)**2)))


def laplace_cdf(z):
    right = z > 0
    return np.where(right, 1.0 - 0.5 * np.exp(-np.where(right, z, 0.0)),
                    0.5 * np.exp(np.where(right, 0.0, z)))


def log_of_smaller(p, q):
    """log p, where q = 1 - p: from p itself below one half, from log1p(-q) above, where p
    has lost the digits that q keeps (SciPy's generic logcdf and logsf do the same)."""
    small = p < 0.5
    return np.where(small, np.log(np.where(small, p, 1.0)), np.log1p(-np.where(small, 0.0, q)))


# --- the table -------------------------------------------------------------------------------

class Continuous:
    """A distribution's functions of the standardized z and its shape parameters."""

    def __init__(self, logpdf, cdf, sf, pdf=None, logcdf=None, logsf=None,
                 support=(-np.inf, np.inf), safe=0.0, no_shape_derivative=None):
        self.logpdf, self.cdf, self.sf = logpdf, cdf, sf
        self.pdf = pdf or (lambda z, *shapes: np.exp(logpdf(z, *shapes)))
        self.logcdf = logcdf or (lambda z, *s: log_of_smaller(cdf(z, *s), sf(z, *s)))
        self.logsf = logsf or (lambda z, *s: log_of_smaller(sf(z, *s), cdf(z, *s)))
        self.support = support
        self.safe = safe   # a point inside the support
        self.no_shape_derivative = no_shape_derivative   # why cdf & co. have none, if so


_INCOMPLETE_GAMMA = ("the regularized incomplete gamma function has no closed-form derivative "
                     "in its shape parameter.")
_INCOMPLETE_BETA = ("the regularized incomplete beta function has no closed-form derivative "
                    "in its shape parameters.")

DISTRIBUTIONS = {
    stats.norm: Continuous(
        norm_logpdf, pdf=norm_pdf,
        cdf=special.ndtr, sf=lambda z: special.ndtr(-z),
        logcdf=special.log_ndtr, logsf=lambda z: special.log_ndtr(-z)),
    stats.t: Continuous(
        t_logpdf, pdf=t_pdf,
        cdf=lambda z, df: special.stdtr(df, z), sf=lambda z, df: special.stdtr(df, -z),
        no_shape_derivative=_INCOMPLETE_BETA),
    stats.gamma: Continuous(
        gamma_logpdf, cdf=lambda z, a: special.gammainc(a, z),
        sf=lambda z, a: special.gammaincc(a, z), support=(0.0, np.inf), safe=1.0,
        no_shape_derivative=_INCOMPLETE_GAMMA),
    stats.beta: Continuous(
        beta_logpdf, cdf=lambda z, a, b: special.betainc(a, b, z),
        sf=lambda z, a, b: special.betaincc(a, b, z), support=(0.0, 1.0), safe=0.5,
        no_shape_derivative=_INCOMPLETE_BETA),
    stats.chi2: Continuous(
        chi2_logpdf, cdf=lambda z, df: special.chdtr(df, z),
        sf=lambda z, df: special.chdtrc(df, z), support=(0.0, np.inf), safe=1.0,
        no_shape_derivative=_INCOMPLETE_GAMMA),
    stats.expon: Continuous(
        lambda z: -z, pdf=lambda z: np.exp(-z),
        cdf=lambda z: -np.expm1(-z), sf=lambda z: np.exp(-z), logsf=lambda z: -z,
        support=(0.0, np.inf), safe=1.0),
    stats.laplace: Continuous(
        lambda z: -np.log(2.0) - np.abs(z), pdf=lambda z: 0.5 * np.exp(-np.abs(z)),
        cdf=laplace_cdf, sf=lambda z: laplace_cdf(-z)),
    stats.logistic: Continuous(
        logistic_logpdf, cdf=special.expit, sf=lambda z: special.expit(-z),
        logcdf=special.log_expit, logsf=lambda z: special.log_expit(-z)),
    stats.cauchy: Continuous(
        cauchy_logpdf, pdf=lambda z: 1.0 / np.pi / (1.0 + z * z),
        cdf=lambda z: np.arctan2(1, -z) / np.pi, sf=lambda z: np.arctan2(1, z) / np.pi),
}

_DENSITIES = ("logpdf", "pdf")
# The value outside the support (or on a bound, for the cumulative functions) is one of two,
# chosen by where z lies: (below the support, above it).
_OUTSIDE = {"logpdf": (-np.inf, -np.inf), "pdf": (0.0, 0.0), "cdf": (0.0, 1.0),
            "logcdf": (-np.inf, 0.0), "sf": (1.0, 0.0), "logsf": (0.0, -np.inf)}


def traced_method(spec, method, names, dist, *args, **kwargs):
    """SciPy's ``dist.method(x, *shapes, loc=0, scale=1)`` on traced values."""
    values = arguments(dist, method, args, kwargs, names, (("loc", 0), ("scale", 1)))
    if spec.no_shape_derivative and method not in _DENSITIES:
        refuse_traced(dist, method, values, names[1:], spec.no_shape_derivative,
                      "Differentiate in x, loc and scale only, with {name} a constant "
                      "(wg.stop_gradient({name}) where it is computed from traced values).")
    shapes = [values[name] for name in names[1:]]
    scale = values["scale"]
    # SciPy standardizes in the arguments' precision, then computes in float64 at least.
    z = at_least_float64((values["x"] - values["loc"]) / scale)
    valid = logical_and(scale > 0, *(s > 0 for s in shapes))   # SciPy's default _argcheck
    lower, upper = spec.support
    if method in _DENSITIES:
        inside = logical_and(valid, lower <= z, z <= upper)
    else:
        inside = logical_and(valid, lower < z, z < upper)
    z_safe = np.where(inside, z, spec.safe)
    shapes = [np.where(valid, s, 1.0) for s in shapes]
    value = getattr(spec, method)(z_safe, *shapes)
    if method == "logpdf":
        value = value - np.log(np.where(valid, scale, 1.0))
    elif method == "pdf":
        value = value / np.where(valid, scale, 1.0)
    below, above = _OUTSIDE[method]
    bad = np.logical_or(np.logical_not(valid), np.isnan(z))
    outside = np.where(bad, np.nan, np.where(z >= upper, above, below))
    return np.where(inside, value, outside)


for _dist, _spec in DISTRIBUTIONS.items():
    _names = ("x",) + shape_names(_dist)
    for _method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        define(type(_dist), _method, functools.partial(traced_method, _spec, _method, _names))
