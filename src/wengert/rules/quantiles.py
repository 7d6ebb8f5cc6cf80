"""Sorting, median and quantiles (order statistics), differentiated through their
definitions (see ``derived_through``): sort, median, quantile, percentile.

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

The decisions (the order, which elements, the interpolation weight) are made on concrete
values and carry no derivative: at ties the derivative is that of the order argsort picked,
a valid subgradient. Refused, with DifferentiationError: sort's ``order=`` (structured
arrays) and quantile/percentile ``weights=`` (NumPy's weighted quantile, method
'inverted_cdf' only). ``out=`` never reaches a definition: the tracer's
``__array_function__`` refuses it first. Average, cov and corrcoef are in ``statistics``.
"""
import numpy as np

from ..core.levels import Tracer, primal
from ..errors import DifferentiationError
from ._helpers import as_array, asarray_like, derived_through, dtype_of, is_complex

try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # pragma: no cover - NumPy < 2
    from numpy.core.numeric import normalize_axis_tuple


def _refused(what, why):
    return DifferentiationError(
        f"{what} has no traced definition in wengert ({why}). Ways out: cut the derivative "
        "with wg.stop_gradient on the arguments, or register a rule with @wg.rrule (and "
        "@wg.frule) for the call.")


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


# NumPy before 2.4.1 cast a Python-number q to a float data's dtype before computing the
# weight (in float32 for float32 data); 2.4.1 on compute it in double and apply it as a weak
# Python float. The values here match the installed NumPy's to the bit.
_Q_IN_DATA_PRECISION = np.lib.NumpyVersion(np.__version__) < "2.4.1"


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
    q_value = asarray_like(q)
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
    q_value = asarray_like(q)
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
    a = as_array(a)
    if _Q_IN_DATA_PRECISION and isinstance(q, (int, float)) and dtype_of(a).kind == "f":
        q, weak_q = asarray_like(q, a, dtype=dtype_of(a)), False
    return _quantile_of("np.quantile", a, q, axis, method, keepdims, weights, weak_q)


@derived_through(np.percentile)
def _percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
    weak_q = type(q) in (int, float)
    a = as_array(a)
    if _Q_IN_DATA_PRECISION and dtype_of(a).kind == "f":
        # A Python q divided by 100 of the data's type is of the data's type too.
        q, weak_q = np.true_divide(q if weak_q else as_array(q), dtype_of(a).type(100)), False
    else:
        q = np.true_divide(as_array(q), 100)
    return _quantile_of("np.percentile", a, q, axis, method, keepdims, weights, weak_q)
