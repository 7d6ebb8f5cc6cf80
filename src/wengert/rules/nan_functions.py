"""NumPy's NaN-ignoring functions beyond the reductions (nansum, nanmean, nanprod, nanmax and
nanmin are in ``reductions``): nancumsum, nancumprod, nanvar, nanstd, nanmedian, nanquantile
and nanpercentile, differentiated through their definitions (see ``derived_through``).

A NaN is replaced by the neutral value of the operation (0 in a sum, 1 in a product) or left
out of the sample. Which elements are NaN is read from the concrete values, and a NaN gets
the cotangent 0. A slice of NaNs only gives NaN, as in NumPy (without its warning).
"""
import numpy as np

from ..core.levels import primal
from ..errors import DifferentiationError
from ._helpers import as_array, derived_through, dtype_of, full_like_value, is_complex, shape_of
from .quantiles import keep_dims, samples_last, sorted_along_last


def _nan_mask(a):
    value = primal(a)
    return np.isnan(value) if dtype_of(value).kind in "fc" else np.zeros_like(value, bool)


def _replaced(a, neutral):
    nan = _nan_mask(a)
    return np.where(nan, neutral, a) if nan.any() else a


def _given(value):
    """A keyword argument that was passed (NumPy's own default is a sentinel)."""
    return value is not np._NoValue


@derived_through(np.nancumsum)
def _nancumsum(a, axis=None, dtype=None, out=None):
    return np.cumsum(_replaced(as_array(a), 0), axis=axis, dtype=dtype)


@derived_through(np.nancumprod)
def _nancumprod(a, axis=None, dtype=None, out=None):
    return np.cumprod(_replaced(as_array(a), 1), axis=axis, dtype=dtype)


@derived_through(np.nanvar)
def _nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=np._NoValue, **kwargs):
    where, mean = kwargs.get("where", np._NoValue), kwargs.get("mean", np._NoValue)
    if (_given(where) and where is not True) or _given(mean):
        raise DifferentiationError(
            "np.nanvar / np.nanstd with where= or mean= have no traced definition in wengert. "
            "Select the elements first (np.where(mask, x, np.nan)), and let the mean be "
            "computed.")
    if _given(kwargs.get("correction", np._NoValue)):
        ddof = kwargs["correction"]
    a = as_array(a)
    if dtype is not None:
        a = a.astype(dtype)
    nan = _nan_mask(a)
    values = np.where(nan, 0, a) if nan.any() else a
    count = np.sum(~nan, axis=axis, keepdims=True)
    real = np.finfo(dtype_of(values)).dtype if dtype_of(values).kind in "fc" else np.float64
    mean = np.sum(values, axis=axis, keepdims=True) / np.maximum(count, 1).astype(real)
    deviation = values - mean
    deviation = np.where(nan, 0, deviation) if nan.any() else deviation
    squares = np.real(deviation * np.conjugate(deviation)) if is_complex(deviation) \
        else deviation * deviation
    total = np.sum(squares, axis=axis, keepdims=True)
    dof = count - ddof
    var = np.where(dof > 0, total / np.maximum(dof, 1).astype(real), np.nan)
    if keepdims is np._NoValue or not keepdims:
        var = np.reshape(var, shape_of(np.sum(nan, axis=axis)))
    return var


@derived_through(np.nanstd)
def _nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=np._NoValue, **kwargs):
    return np.sqrt(np.nanvar(a, axis, dtype, None, ddof, keepdims, **kwargs))


@derived_through(np.nanmedian)
def _nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=np._NoValue):
    x, kept_shape = samples_last(as_array(a), axis)
    n = shape_of(x)[-1]
    if n == 0:
        return np.nanmedian(primal(x), axis=-1)
    s = sorted_along_last(x)   # NaNs sort last: the numbers come first
    count = np.sum(~_nan_mask(x), axis=-1, keepdims=True)
    # The middle number, or the mean of the middle two.
    below, above = np.maximum((count - 1) // 2, 0), count // 2
    above = np.minimum(above, n - 1)
    middle = (np.take_along_axis(s, below, -1) + np.take_along_axis(s, above, -1)) / 2
    middle = np.where(count == 0, np.nan, middle)[..., 0]
    return keep_dims(middle, kept_shape, keepdims is not np._NoValue and keepdims)


def _nan_quantiles(quantile, a, q, axis, method, keepdims, weights):
    """``quantile`` (np.quantile or np.percentile) of the numbers of each slice: NumPy
    orders each slice's numbers apart, since their count differs from slice to slice."""
    if weights is not None:
        raise DifferentiationError(
            "np.nanquantile / np.nanpercentile with weights= have no traced definition in "
            "wengert; drop the NaNs (x[~np.isnan(x)]) and call np.quantile.")
    x, kept_shape = samples_last(as_array(a), axis)
    outer = shape_of(x)[:-1]
    rows = np.reshape(x, (-1, shape_of(x)[-1]))
    numbers = ~_nan_mask(rows)
    results = []
    for i in range(shape_of(rows)[0]):
        if numbers[i].any():
            results.append(quantile(rows[i][np.flatnonzero(numbers[i])], q, method=method))
        else:
            results.append(full_like_value(primal(rows), np.nan, shape=np.shape(primal(q))))
    lead = np.ndim(primal(q))
    result = np.moveaxis(np.stack(results), 0, -1)
    result = np.reshape(result, shape_of(result)[:lead] + outer)
    return keep_dims(result, kept_shape, keepdims is not np._NoValue and keepdims, lead)


@derived_through(np.nanquantile)
def _nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                 keepdims=np._NoValue, *, weights=None):
    return _nan_quantiles(np.quantile, a, q, axis, method, keepdims, weights)


@derived_through(np.nanpercentile)
def _nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                   keepdims=np._NoValue, *, weights=None):
    return _nan_quantiles(np.percentile, a, q, axis, method, keepdims, weights)
