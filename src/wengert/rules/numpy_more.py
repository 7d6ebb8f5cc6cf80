"""The rest of NumPy's namespace that holds derivatives, each differentiated through a short
definition (see ``derived_through``) or a rule:

- moving elements: delete, insert, extract, resize, trim_zeros. delete and insert are
  NumPy's own functions applied to the positions of the elements (an array of indices), and
  the result gathers the values from those positions: whatever NumPy decides about
  ``obj``, axes and broadcasting, the derivative follows the same elements;
- making arrays from values: full_like (its fill value), astype, geomspace, logspace;
- linear algebra on tensors: tensorsolve and tensorinv reshape to one solve or inverse;
- real_if_close (the real part where NumPy drops the imaginary one), i0 (its derivative is
  the Bessel function I₁, summed from its series, which AD differentiates again);
- functions of dtypes, memory and text, which carry no tangent.
"""
import numpy as np

from ..core.levels import Tracer, primal
from ._helpers import (ZERO, arange_like, as_array, derived_through, dtype_of, forward,
                       is_complex, is_zero, non_differentiable, reverse, shape_of, to_dense)

try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # pragma: no cover - NumPy < 2
    from numpy.core.numeric import normalize_axis_tuple


def _positions(shape):
    """The flat position of every element of an array of ``shape``."""
    return np.reshape(arange_like(int(np.prod(shape, dtype=np.int64)), 0), shape)


def _cast(x, dtype):
    return x if dtype_of(x) == dtype else x.astype(dtype)


# ---------------------------------------------------------------------------------------------
# Moving elements
# ---------------------------------------------------------------------------------------------


@derived_through(np.delete)
def _delete(arr, obj, axis=None):
    arr = as_array(arr)
    return np.ravel(arr)[np.delete(_positions(shape_of(arr)), primal(obj), axis)]


@derived_through(np.insert)
def _insert(arr, obj, values, axis=None):
    arr, values = as_array(arr), as_array(values)
    size = int(np.prod(shape_of(arr), dtype=np.int64))
    both = np.concatenate([np.ravel(arr), np.ravel(_cast(values, dtype_of(arr)))])
    where = np.insert(_positions(shape_of(arr)), primal(obj),
                      size + _positions(shape_of(values)), axis)
    return both[where]


@derived_through(np.extract)
def _extract(condition, arr):
    return np.ravel(as_array(arr))[np.flatnonzero(primal(condition))]


@derived_through(np.resize)
def _resize(a, new_shape):
    a = np.ravel(as_array(a))
    shape = (new_shape,) if np.ndim(new_shape) == 0 else tuple(new_shape)
    size = int(np.prod(shape, dtype=np.int64))
    if size < 0 or min(shape, default=0) < 0:
        raise ValueError("all elements of `new_shape` must be non-negative")
    if shape_of(a)[0] == 0 or size == 0:
        return np.zeros_like(a, shape=shape)
    copies = -(-size // shape_of(a)[0])
    return np.reshape(np.concatenate([a] * copies)[:size], shape)


@derived_through(np.trim_zeros)
def _trim_zeros(filt, trim="fb", axis=None):
    filt = as_array(filt)
    trim = trim.lower()
    if trim not in {"fb", "bf", "f", "b"}:
        raise ValueError(f"unexpected character(s) in `trim`: {trim!r}")
    nonzero = primal(filt) != 0
    ndim = nonzero.ndim
    axes = tuple(range(ndim)) if axis is None else normalize_axis_tuple(axis, ndim)
    box = []
    for ax in range(ndim):
        # The smallest box holding every nonzero value, on the axes and sides asked for.
        along = np.flatnonzero(np.any(nonzero, axis=tuple(a for a in range(ndim) if a != ax)))
        if ax not in axes:
            box.append(slice(None))
        elif along.size == 0:
            box.append(slice(0, 0))
        else:
            box.append(slice(int(along[0]) if "f" in trim else None,
                             int(along[-1]) + 1 if "b" in trim else None))
    return filt[tuple(box)]


# ---------------------------------------------------------------------------------------------
# Making arrays from values
# ---------------------------------------------------------------------------------------------


@derived_through(np.full_like)
def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    # Only the fill value reaches the result: a's values do not.
    zeros = np.zeros_like(primal(a), dtype=dtype, order=order, subok=subok, shape=shape)
    if not isinstance(fill_value, Tracer):
        return np.full_like(zeros, fill_value)
    return zeros + _cast(fill_value, dtype_of(zeros))


if hasattr(np, "astype"):   # NumPy 2
    @derived_through(np.astype)
    def _astype(x, dtype, **kwargs):
        return x.astype(dtype)


@derived_through(np.logspace)
def _logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    ndim = max(np.ndim(start), np.ndim(stop), np.ndim(base))
    start, stop, base = (_at_least(as_array(v), ndim) for v in (start, stop, base))
    y = np.linspace(start, stop, num, endpoint, axis=axis)
    spaced = np.result_type(dtype_of(start), dtype_of(stop), float(num))   # NumPy's linspace
    y = np.power(np.expand_dims(base, axis), y if dtype_of(y) == spaced else y.astype(spaced))
    return y if dtype is None else y.astype(dtype)


def _at_least(x, ndim):
    missing = ndim - len(shape_of(x))
    return np.reshape(x, (1,) * missing + shape_of(x)) if missing > 0 else x


@derived_through(np.geomspace)
def _geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    start, stop = as_array(start), as_array(stop)
    if np.any(primal(start) == 0) or np.any(primal(stop) == 0):
        raise ValueError("Geometric sequence cannot include zero")
    kind = np.result_type(dtype_of(start), dtype_of(stop), float(num), np.dtype(dtype))
    start, stop = _cast(start, kind), _cast(stop, kind)
    # Rotated onto the positive reals (by the sign, or the phase of a complex start): a
    # logspace between the magnitudes, its ends exactly start and stop, rotated back.
    sign = start / np.abs(start)
    start, stop = start / sign, stop / sign
    result = np.logspace(np.log10(start), np.log10(stop), num, endpoint, 10.0, kind)
    if num > 0:
        last = [stop[None]] if num > 1 and endpoint else []
        result = np.concatenate([start[None], result[1:num - len(last)]] + last)
    result = sign * result
    if axis != 0:
        result = np.moveaxis(result, 0, axis)
    return _cast(result, kind if dtype is None else np.dtype(dtype))


# ---------------------------------------------------------------------------------------------
# Tensor solves, real_if_close, i0
# ---------------------------------------------------------------------------------------------


@derived_through(np.linalg.tensorsolve)
def _tensorsolve(a, b, axes=None):
    a, b = as_array(a), as_array(b)
    ndim = len(shape_of(a))
    if axes is not None:
        order = [k for k in range(ndim) if k not in [ax % ndim for ax in axes]]
        a = np.transpose(a, order + [ax % ndim for ax in axes])
    x_shape = shape_of(a)[-(ndim - len(shape_of(b))):]
    size = int(np.prod(x_shape, dtype=np.int64))
    if int(np.prod(shape_of(a), dtype=np.int64)) != size ** 2:
        raise np.linalg.LinAlgError(
            "Input arrays must satisfy the requirement "
            "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    x = np.linalg.solve(np.reshape(a, (size, size)), np.ravel(b))
    return np.reshape(x, x_shape)


@derived_through(np.linalg.tensorinv)
def _tensorinv(a, ind=2):
    a = as_array(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    shape = shape_of(a)
    rows = int(np.prod(shape[ind:], dtype=np.int64))
    inverse = np.linalg.inv(np.reshape(a, (rows, -1)))
    return np.reshape(inverse, shape[ind:] + shape[:ind])


@derived_through(np.real_if_close)
def _real_if_close(a, tol=100):
    a = as_array(a)
    if not is_complex(a):
        return a
    if tol > 1:
        tol = np.finfo(dtype_of(a)).eps * tol
    return np.real(a) if np.all(np.abs(np.imag(primal(a))) < tol) else a


def _bessel_i1(x):
    """I₁(x) = Σₖ (x/2)^(2k+1) / (k!(k+1)!), NumPy on x (so that AD gives I₁' = I₀ − I₁/x
    and beyond). All terms have one sign, so the sum loses no digits; its terms grow until
    k ≈ |x|/2 and are below rounding a few widths of their peak later."""
    half = x / 2
    quarter_square = half * half
    largest = float(np.max(np.abs(primal(half)), initial=0.0))
    largest = largest if largest < 400 else 400.0   # I₁ overflows from |x| ≈ 713 on
    term = half
    total = half
    for k in range(int(largest + 8 * np.sqrt(largest) + 25)):
        term = term * quarter_square / ((k + 1) * (k + 2))
        total = total + term
    return total


@reverse(np.i0)
def _i0(needs, x):
    return np.i0(x), lambda ct: (ct * _bessel_i1(x),)


@forward(np.i0)
def _i0_forward(tangents, x):
    t = tangents[0]
    return np.i0(x), ZERO if is_zero(t) else to_dense(t) * _bessel_i1(x)


# --- dtypes, memory and text: no tangent ------------------------------------------------------
non_differentiable(
    np.einsum_path, np.min_scalar_type, np.can_cast, np.common_type, np.may_share_memory,
    np.shares_memory, np.busday_count, np.busday_offset, np.is_busday, np.datetime_as_string,
    np.array2string, np.array_repr, np.array_str)
