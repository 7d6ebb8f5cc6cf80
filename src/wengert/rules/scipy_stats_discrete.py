"""The discrete distributions of scipy.stats: poisson (differentiable in mu), binom (in p)
and bernoulli (in p), with pmf, logpmf, cdf, logcdf, sf and logsf (see scipy_stats for how
they are reached).

The count k, the number of trials n and the location (an integer shift) have no derivative;
a traced one is refused. The cumulative functions are scipy.special's pdtr and bdtr (and
their complements), whose derivatives in mu and p have closed forms.
"""
import functools

import numpy as np
import scipy.special as special
import scipy.stats as stats

from .scipy_stats_doors import arguments, define, logical_and, refuse_traced, shape_names


def poisson_logpmf(k, mu):
    return special.xlogy(k, mu) - special.gammaln(k + 1) - mu


def binom_logpmf(k, n, p):
    log_choose = special.gammaln(n + 1) - (special.gammaln(k + 1) + special.gammaln(n - k + 1))
    return log_choose + special.xlogy(k, p) + special.xlog1py(n - k, -p)


class Discrete:
    """A distribution's functions of k (an integer inside the support) and its shapes."""

    def __init__(self, logpmf, cdf, sf, valid, upper, safe, counts=()):
        self.logpmf, self.cdf, self.sf = logpmf, cdf, sf
        self.pmf = lambda k, *shapes: np.exp(logpmf(k, *shapes))
        self.logcdf = lambda k, *shapes: np.log(cdf(k, *shapes))   # as SciPy's generic ones
        self.logsf = lambda k, *shapes: np.log(sf(k, *shapes))
        self.valid, self.upper = valid, upper   # SciPy's _argcheck; the support's upper end
        self.safe = safe          # valid shapes, for the formula where the given ones are not
        self.counts = counts      # shapes that are integers: no derivative


def _probability(p):
    return logical_and(p >= 0, p <= 1)


DISTRIBUTIONS = {
    stats.poisson: Discrete(
        poisson_logpmf, cdf=lambda k, mu: special.pdtr(k, mu),
        sf=lambda k, mu: special.pdtrc(k, mu),
        valid=lambda mu: mu >= 0, upper=lambda mu: np.inf, safe=(1.0,)),
    stats.binom: Discrete(
        binom_logpmf, cdf=lambda k, n, p: special.bdtr(k, n, p),
        sf=lambda k, n, p: special.bdtrc(k, n, p),
        valid=lambda n, p: logical_and(n >= 0, np.floor(n) == n, _probability(p)),
        upper=lambda n, p: n, safe=(1, 0.5), counts=("n",)),
    stats.bernoulli: Discrete(
        lambda k, p: binom_logpmf(k, 1, p), cdf=lambda k, p: special.bdtr(k, 1, p),
        sf=lambda k, p: special.bdtrc(k, 1, p), valid=_probability, upper=lambda p: 1, safe=(0.5,)),
}

_MASSES = ("logpmf", "pmf")
# The value outside the support (or at its upper end, for the cumulative functions), chosen
# by where k lies: (below the upper end or not an integer, at or above it).
_OUTSIDE = {"logpmf": (-np.inf, -np.inf), "pmf": (0.0, 0.0), "cdf": (0.0, 1.0),
            "logcdf": (-np.inf, 0.0), "sf": (1.0, 0.0), "logsf": (0.0, -np.inf)}


def traced_method(spec, method, names, dist, *args, **kwargs):
    """SciPy's ``dist.method(k, *shapes, loc=0)`` on traced values."""
    values = arguments(dist, method, args, kwargs, names, (("loc", 0),))
    refuse_traced(dist, method, values, ("k", "loc") + spec.counts,
                  "it is a count (an integer), which has no derivative.",
                  "Pass {name} as a constant (wg.stop_gradient({name}) where it is computed "
                  "from traced values).")
    shapes = [values[name] for name in names[1:]]
    k = values["k"] - values["loc"]
    valid = spec.valid(*shapes)
    upper = spec.upper(*shapes)
    if method in _MASSES:
        inside = logical_and(valid, k >= 0, k <= upper, np.floor(k) == k)
    else:   # SciPy counts the events up to k: floor(k)
        inside = logical_and(valid, k >= 0, k < upper, np.isfinite(k))
    k_safe = np.where(inside, np.floor(k), 0)
    shapes = [np.where(valid, s, safe) for s, safe in zip(shapes, spec.safe)]
    value = getattr(spec, method)(k_safe, *shapes)
    below, above = _OUTSIDE[method]
    bad = np.logical_or(np.logical_not(valid), np.isnan(k))
    above_upper = k >= upper
    if method == "logcdf":   # SciPy's logcdf says 0 there even for invalid parameters
        bad = np.logical_and(bad, np.logical_not(above_upper))
    return np.where(inside, value, np.where(bad, np.nan, np.where(above_upper, above, below)))


for _dist, _spec in DISTRIBUTIONS.items():
    _names = ("k",) + shape_names(_dist)
    for _method in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"):
        define(type(_dist), _method, functools.partial(traced_method, _spec, _method, _names))
