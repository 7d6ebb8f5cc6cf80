"""Sorting and statistics, differentiated through their definitions (see ``derived_through``):
sort, median, quantile, percentile, average, cov and corrcoef.

NumPy writes these in Python on ``np.asarray``-converted arguments, so they cannot run on
tracers; each definition here recomputes NumPy's result, step for step where rounding could
differ, from operations wengert differentiates:

- sort gathers (``take_along_axis``) in the order ``argsort`` finds on the concrete values,
  so its cotangent goes back to where each element came from.
- median and quantiles read one or two elements of the sorted data and interpolate between
  them with a weight that depends on q and the sample size only. Every ``method`` of
  np.quantile is here (Hyndman & Fan's nine and lower/higher/nearest/midpoint), with q
  differentiable too: the derivative in q is the slope between the two neighbours (0 for
  the methods that pick one element). A slice holding a NaN gives NaN, as in NumPy.
- average, cov and corrcoef are sums and products, weights included.

The decisions (the order, which elements, the interpolation weight) are made on concrete
values and carry no derivative: at ties the derivative is that of the order argsort picked,
a valid subgradient. Refused, with DifferentiationError: sort's ``order=`` (structured
arrays) and quantile/percentile ``weights=`` (NumPy's weighted quantile, method
'inverted_cdf' only). ``out=`` never reaches a definition: the tracer's
``__array_function__`` refuses it first.
"""
import warnings

import numpy as np

from ..core.levels import Tracer, primal
from ..errors import DifferentiationError
from ._helpers import as_array, derived_through, dtype_of, is_complex

try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # pragma: no cover - NumPy < 2
    from numpy.core.numeric import normalize_axis_tuple


def _refused(what, why):
    return DifferentiationError(
        f"{what} has no traced definition in wengert ({why}). Ways out: cut the derivative "
        "with wg.stop_gradient on the arguments, or register a rule with @wg.rrule (and "
        "@wg.frule) for the call.")


def cast(x, dtype):
    """``x`` in ``dtype``, without a copy where it already is (works on tracers)."""
    return x if dtype_of(x) == dtype else x.astype(dtype)


# ---------------------------------------------------------------------------------------------
# Sorting
# ---------------------------------------------------------------------------------------------


def sorted_along_last(x):
    """``x`` sorted along its last axis: a gather in the order of its concrete values."""
    return np.take_along_axis(x, np.argsort(primal(x), axis=-1), axis=-1)


@derived_through(np.sort)
def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        raise _refused("np.sort(order=...)", "it sorts structured arrays, which hold no "
                       "derivative")
    a = as_array(a)
    if axis is None:
        a, axis = np.ravel(a), -1
    # Equal values are interchangeable, so kind and stable change no value; argsort still
    # checks them.
    stability = {} if stable is None else {"stable": stable}
    by = np.argsort(primal(a), axis=axis, kind=kind, **stability)
    return np.take_along_axis(a, by, axis=axis)


# ---------------------------------------------------------------------------------------------
# Median and quantiles: one or two sorted elements, interpolated
# ---------------------------------------------------------------------------------------------


def samples_last(a, axis):
    """``a`` with the reduced axes merged into one last axis, as NumPy's ``_ureduce`` reduces
    several axes at once, and the shape ``keepdims`` gives the result (1 on those axes)."""
    shape = np.shape(a)
    ndim = len(shape)
    axes = tuple(range(ndim)) if axis is None else normalize_axis_tuple(axis, ndim)
    kept = [i for i in range(ndim) if i not in axes]
    order = kept + list(axes)
    x = a if order == list(range(ndim)) else np.transpose(a, order)
    n = int(np.prod([shape[i] for i in axes], dtype=np.int64))
    x = np.reshape(x, tuple(shape[i] for i in kept) + (n,))
    return x, tuple(1 if i in axes else length for i, length in enumerate(shape))


def keep_dims(result, kept_shape, keepdims, lead=0):
    """The reduced ``result`` (``lead`` leading axes of q first) with the reduced axes kept
    as length 1 where asked."""
    if not keepdims:
        return result
    return np.reshape(result, np.shape(result)[:lead] + kept_shape)


def nan_where_any(result, last, lead=0):
    """NaN where a slice holds a NaN, as NumPy reports it. argsort puts NaNs last, so the
    last sorted element of each slice (``last``, concrete) tells; a slice without one keeps
    its value and its derivative."""
    if not np.isnan(last).any():
        return result
    return np.where(np.reshape(np.isnan(last), (1,) * lead + np.shape(last)), np.nan, result)


@derived_through(np.median)
def _median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    x, kept_shape = samples_last(as_array(a), axis)
    s = sorted_along_last(x)
    n = np.shape(s)[-1]
    half = n // 2
    # NumPy's own formula: the mean of the middle element, or of the middle two.
    middle = s[..., half:half + 1] if n % 2 else s[..., half - 1:half + 1]
    m = np.mean(middle, axis=-1)
    if n:
        m = nan_where_any(m, primal(s)[..., -1])
    return keep_dims(m, kept_shape, keepdims)


def _lerp(below, above, gamma):
    """NumPy's interpolation, from the nearer end so that gamma = 1 gives ``above`` exactly."""
    step = above - below
    if type(gamma) is float:   # one weight for every element: one branch
        return above - step * (1 - gamma) if gamma >= 0.5 else below + step * gamma
    return np.where(gamma >= 0.5, above - step * (1 - gamma), below + step * gamma)


# Hyndman & Fan's continuous methods by (alpha, beta): the virtual index of quantile q among
# n sorted values is n q + alpha + q (1 - alpha - beta) - 1.
_PLOTTING_POSITIONS = {
    "interpolated_inverted_cdf": (0, 1),
    "hazen": (0.5, 0.5),
    "weibull": (0, 0),
    "median_unbiased": (1 / 3.0, 1 / 3.0),
    "normal_unbiased": (3 / 8.0, 3 / 8.0),
}
_ONE_ELEMENT = ("inverted_cdf", "closest_observation", "lower", "higher", "nearest")
_METHODS = ("linear", "averaged_inverted_cdf", "midpoint") + tuple(_PLOTTING_POSITIONS) \
    + _ONE_ELEMENT


def _discrete(index, picks_below):
    """The element a discrete method picks at a virtual ``index``: below, or the next one
    (NumPy's ``_discrete_interpolation_to_boundaries``)."""
    below = np.floor(index)
    at = np.where(picks_below(index - below, index), below, below + 1).astype(np.intp)
    return np.maximum(at, 0)


def _one_element(method, n, q):
    """The index of the sorted element that a discrete ``method`` returns for concrete q."""
    if method == "inverted_cdf":
        return _discrete(n * q - 1, lambda gamma, index: gamma == 0)
    if method == "closest_observation":
        # The nearest even order statistic (1-based) at a tie.
        return _discrete(n * q - 1 - 0.5,
                         lambda gamma, index: (gamma == 0) & (np.floor(index) % 2 == 1))
    rounded = {"lower": np.floor, "higher": np.ceil, "nearest": np.around}[method]
    return rounded((n - 1) * q).astype(np.intp)


def _virtual_index(method, n, q):
    """Where quantile q falls among n sorted values (a fractional index; traced with q)."""
    if method in ("linear", "midpoint"):
        return (n - 1) * q
    if method == "averaged_inverted_cdf":
        return n * q - 1
    alpha, beta = _PLOTTING_POSITIONS[method]
    return n * q + (alpha + q * (1 - alpha - beta)) - 1


def _neighbours(index, n):
    """The sorted positions below and above a concrete virtual index, as NumPy's
    ``_get_indexes`` clamps them (both the last beyond the end, both the first before it),
    and the lower one as a float, which NumPy measures the weight from."""
    lower = np.floor(index)
    upper = lower + 1
    beyond, before = index >= n - 1, index < 0
    lower, upper = np.where(beyond, -1, lower), np.where(beyond, -1, upper)
    lower, upper = np.where(before, 0, lower), np.where(before, 0, upper)
    return lower.astype(np.intp), upper.astype(np.intp), lower


def _interpolation(method, n, q, weak_q):
    """``(below, above, gamma)``: quantile q is ``lerp(sorted[below], sorted[above], gamma)``
    (gamma None: ``sorted[below]`` itself). Indices are concrete; gamma is traced where q is
    (the derivative in q), and a Python float where q was one (NumPy's weak promotion keeps
    a float32 result float32). Otherwise gamma has q's precision, as in NumPy."""
    q_value = np.asarray(primal(q))
    if method in _ONE_ELEMENT:
        at = _one_element(method, n, q_value)
        return at, at, None
    index = _virtual_index(method, n, q_value)
    if method == "linear" and index.dtype.kind in "iu":   # q of integers (0 or 1): no lerp
        return index, index, None
    below, above, lower = _neighbours(index, n)
    if method == "averaged_inverted_cdf":   # the mean of two at a step of the cdf, else above
        gamma = np.where(index - np.floor(index) == 0, 0.5, 1.0).astype(index.dtype)
    elif method == "midpoint":
        gamma = np.where(index % 1 == 0, 0.0, 0.5).astype(index.dtype)
    else:
        # The distance from the clamped lower index: where it was clamped, below and above
        # are the same element, so only the distance inside the data matters.
        traced_q = q if isinstance(q, Tracer) else q_value
        gamma = _virtual_index(method, n, traced_q) - lower.astype(index.dtype)
    if weak_q:
        return below, above, float(primal(gamma))
    return below, above, gamma


def _quantile_of(name, a, q, axis, method, keepdims, weights, weak_q):
    if weights is not None:
        raise _refused(f"{name}(weights=...)", "NumPy weighs only method='inverted_cdf', "
                       "which picks an element by the cumulative weights")
    a = as_array(a)
    if is_complex(a):
        raise TypeError("a must be an array of real numbers")
    if method not in _METHODS:
        raise ValueError(f"{method!r} is not a valid method. Use one of: {_METHODS}")
    q_value = np.asarray(primal(q))
    if q_value.ndim > 1:
        raise ValueError("q must be a scalar or 1d")
    if not (np.all(q_value >= 0) and np.all(q_value <= 1)):
        kind = "Percentiles" if name == "np.percentile" else "Quantiles"
        bounds = "[0, 100]" if name == "np.percentile" else "[0, 1]"
        raise ValueError(f"{kind} must be in the range {bounds}")
    x, kept_shape = samples_last(a, axis)
    n = np.shape(x)[-1]
    # The sample axis first, as NumPy has it: indexing it with q's indices puts q's shape
    # first in the result.
    s = np.moveaxis(sorted_along_last(x), -1, 0)
    below, above, gamma = _interpolation(method, n, q, weak_q)
    lead = q_value.ndim
    if gamma is None:
        result = s[below]
    else:
        if type(gamma) is not float:
            gamma = np.reshape(gamma, np.shape(gamma) + (1,) * (np.ndim(s) - 1))
        result = _lerp(s[below], s[above], gamma)
    result = nan_where_any(result, primal(s)[-1], lead)
    return keep_dims(result, kept_shape, keepdims, lead)


@derived_through(np.quantile)
def _quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
              keepdims=False, *, weights=None):
    weak_q = type(q) in (int, float)
    return _quantile_of("np.quantile", a, q, axis, method, keepdims, weights, weak_q)


@derived_through(np.percentile)
def _percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
    weak_q = type(q) in (int, float)
    q = np.true_divide(as_array(q), 100)
    return _quantile_of("np.percentile", a, q, axis, method, keepdims, weights, weak_q)


# ---------------------------------------------------------------------------------------------
# Average, covariance, correlation: sums and products
# ---------------------------------------------------------------------------------------------


def _weights_along(weights, a_shape, axes):
    """Weights shaped to broadcast against ``a``: the same shape, or one weight per element
    of the averaged axes (NumPy's ``_weights_are_valid``)."""
    w = as_array(weights)
    if np.shape(w) == a_shape:
        return w
    if axes is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    if np.shape(w) != tuple(a_shape[ax] for ax in axes):
        raise ValueError("Shape of weights must be consistent with shape of a along "
                         "specified axis.")
    w = np.transpose(w, tuple(int(i) for i in np.argsort(axes)))
    return np.reshape(w, tuple(s if ax in axes else 1 for ax, s in enumerate(a_shape)))


@derived_through(np.average)
def _average(a, axis=None, weights=None, returned=False, *, keepdims=np._NoValue):
    a = as_array(a)
    axes = None if axis is None else normalize_axis_tuple(axis, np.ndim(a), argname="axis")
    # Without keepdims= NumPy passes none on (a subclass's mean may not take it).
    kept = {} if keepdims is np._NoValue else {"keepdims": keepdims}
    if weights is None:
        average = np.mean(a, axes, **kept)
        dtype = dtype_of(average)
        total = dtype.type(np.size(a) / np.size(average))
    else:
        w = _weights_along(weights, np.shape(a), axes)
        if dtype_of(a).kind in "biu":
            dtype = np.result_type(dtype_of(a), dtype_of(w), "f8")
        else:
            dtype = np.result_type(dtype_of(a), dtype_of(w))
        total = np.sum(cast(w, dtype), axis=axes, **kept)
        if np.any(primal(total) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        average = np.sum(cast(a, dtype) * cast(w, dtype), axis=axes, **kept) / total
    if not returned:
        return average
    if np.shape(total) != np.shape(average):
        total = np.copy(np.broadcast_to(total, np.shape(average)))
    return average, total


def _frequencies_and_weights(fweights, aweights, count):
    """NumPy's checks of cov's weights (on their values) and their product; each may be
    traced, and the derivative follows them as real numbers."""
    w = None
    if fweights is not None:
        fweights = cast(as_array(fweights), np.dtype(float))
        f = primal(fweights)
        if not np.all(f == np.around(f)):
            raise TypeError("fweights must be integer")
        if np.ndim(f) > 1:
            raise RuntimeError("cannot handle multidimensional fweights")
        if np.shape(f)[0] != count:
            raise RuntimeError("incompatible numbers of samples and fweights")
        if np.any(f < 0):
            raise ValueError("fweights cannot be negative")
        w = fweights
    if aweights is not None:
        aweights = cast(as_array(aweights), np.dtype(float))
        v = primal(aweights)
        if np.ndim(v) > 1:
            raise RuntimeError("cannot handle multidimensional aweights")
        if np.shape(v)[0] != count:
            raise RuntimeError("incompatible numbers of samples and aweights")
        if np.any(v < 0):
            raise ValueError("aweights cannot be negative")
        w = aweights if w is None else w * aweights
    return w, aweights


@derived_through(np.cov)
def _cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
         dtype=None):
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = as_array(m)
    y = None if y is None else as_array(y)
    if np.ndim(m) > 2:
        raise ValueError("m has more than 2 dimensions")
    if y is not None and np.ndim(y) > 2:
        raise ValueError("y has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(*(dtype_of(v) for v in (m, y) if v is not None), np.float64)
    dtype = np.dtype(dtype)
    X = cast(np.atleast_2d(m), dtype)
    if not rowvar and np.ndim(m) != 1:
        X = np.transpose(X)
    if np.shape(X)[0] == 0:
        return np.array([]).reshape(0, 0)
    if y is not None:
        Y = cast(np.atleast_2d(y), dtype)
        if not rowvar and np.shape(Y)[0] != 1:
            Y = np.transpose(Y)
        X = np.concatenate((X, Y), axis=0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0

    w, aweights = _frequencies_and_weights(fweights, aweights, np.shape(X)[1])
    mean, w_sum = np.average(X, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    # The normalisation: the observations (or the total weight) less the degrees of freedom.
    if w is None:
        fact = np.shape(X)[1] - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * np.sum(w * aweights) / w_sum
    if fact <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0

    X = X - mean[:, None]
    X_T = np.transpose(X) if w is None else np.transpose(X * w)
    c = np.matmul(X, np.conjugate(X_T))
    # NumPy scales in place, so c keeps its dtype when 1/fact is wider.
    c = cast(c * np.true_divide(1, fact), dtype_of(c))
    return np.squeeze(c)


@derived_through(np.corrcoef)
def _corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = np.cov(x, y, rowvar, dtype=dtype)
    if np.ndim(c) == 0:
        return c / c   # one variable: 1, or NaN where its variance is 0, NaN or infinite
    stddev = np.sqrt(np.real(np.diagonal(c)))
    c = c / stddev[:, None]
    c = c / stddev[None, :]
    # NumPy then clips the real (and imaginary) parts to [-1, 1], which moves only values
    # that rounding pushed past ±1 (the diagonal, perfectly correlated pairs). Not clipped
    # here: at such points correlation is at its extreme, where the smooth formula's
    # derivatives are the right ones (0 in the first order, and the curvature in the
    # second), while a clip would cut them to 0. Values may differ from NumPy's by an ulp.
    return c
