"""Differences of neighbouring elements, differentiated through their definitions (see
``derived_through``): np.gradient, np.ediff1d, np.unwrap. (np.diff is in ``composites``.)

np.gradient is linear in the values and rational in the spacing; both are differentiated,
the spacing as a scalar per axis or as coordinates along it (1-d arrays, traced or not).
Where NumPy finds constant coordinates it uses the formula of a scalar spacing; traced
coordinates always use the general one, so their derivative is right even where they
happen to be equally spaced (the values agree to rounding).

np.unwrap adds multiples of the period where neighbours jump: piecewise constant, so the
result moves with its argument one to one. NumPy computes the values; the argument's
tangent is added to them as ``p - value(p)``, which is exactly zero in value.
"""
import numpy as np

from ..core.levels import Tracer, primal
from ._helpers import as_array, derived_through, dtype_of, shape_of

try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # pragma: no cover - NumPy < 2
    from numpy.core.numeric import normalize_axis_tuple


def _spacings(varargs, f_shape, axes):
    """Per axis: a scalar spacing, or the distances between neighbouring coordinates."""
    if not varargs:
        return [1.0] * len(axes)
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        return list(varargs) * len(axes)
    if len(varargs) != len(axes):
        raise TypeError("invalid number of arguments")
    spacings = []
    for axis, spacing in zip(axes, varargs):
        if np.ndim(spacing) == 0:
            spacings.append(spacing)
            continue
        coordinates = as_array(spacing)
        if np.ndim(coordinates) != 1:
            raise ValueError("distances must be either scalars or 1d")
        if shape_of(coordinates)[0] != f_shape[axis]:
            raise ValueError("when 1d, distances must match the length of the corresponding "
                             "dimension")
        if dtype_of(coordinates).kind in "iub":
            coordinates = coordinates.astype(np.float64)
        distances = np.diff(coordinates)
        plain = primal(distances)
        if not isinstance(coordinates, Tracer) and np.all(plain == plain[0]):
            distances = distances[0]   # constant: NumPy's formula for a scalar spacing
        spacings.append(distances)
    return spacings


def _slice(axis, ndim, index):
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def _along(values, axis, ndim):
    """1-d ``values`` shaped to broadcast along ``axis``."""
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(values, shape)


def _derivative_along(f, axis, dx, edge_order):
    ndim = len(shape_of(f))

    def at(index):
        return f[_slice(axis, ndim, index)]

    uniform = np.ndim(dx) == 0
    # Second order in the interior: central differences.
    if uniform:
        interior = (at(slice(2, None)) - at(slice(None, -2))) / (2.0 * dx)
    else:
        dx1, dx2 = dx[:-1], dx[1:]
        a = _along(-dx2 / (dx1 * (dx1 + dx2)), axis, ndim)
        b = _along((dx2 - dx1) / (dx1 * dx2), axis, ndim)
        c = _along(dx1 / (dx2 * (dx1 + dx2)), axis, ndim)
        interior = a * at(slice(None, -2)) + b * at(slice(1, -1)) + c * at(slice(2, None))
    # One-sided differences at the ends, of the order asked for.
    first, last = slice(0, 1), slice(-1, None)
    if edge_order == 1:
        start = (at(slice(1, 2)) - at(first)) / (dx if uniform else dx[0])
        end = (at(last) - at(slice(-2, -1))) / (dx if uniform else dx[-1])
    else:
        if uniform:
            a, b, c = -1.5 / dx, 2.0 / dx, -0.5 / dx
        else:
            dx1, dx2 = dx[0], dx[1]
            a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
            b = (dx1 + dx2) / (dx1 * dx2)
            c = -dx1 / (dx2 * (dx1 + dx2))
        start = a * at(first) + b * at(slice(1, 2)) + c * at(slice(2, 3))
        if uniform:
            a, b, c = 0.5 / dx, -2.0 / dx, 1.5 / dx
        else:
            dx1, dx2 = dx[-2], dx[-1]
            a = dx2 / (dx1 * (dx1 + dx2))
            b = -(dx2 + dx1) / (dx1 * dx2)
            c = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
        end = a * at(slice(-3, -2)) + b * at(slice(-2, -1)) + c * at(last)
    return np.concatenate([start, interior, end], axis=axis)


@derived_through(np.gradient)
def _gradient(f, *varargs, axis=None, edge_order=1):
    f = as_array(f)
    shape = shape_of(f)
    axes = tuple(range(len(shape))) if axis is None else normalize_axis_tuple(axis, len(shape))
    spacings = _spacings(varargs, shape, axes)
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    out_type = dtype_of(f) if dtype_of(f).kind in "fc" else np.dtype(np.float64)
    if dtype_of(f).kind in "iub":
        f = f.astype(np.float64)
    derivatives = []
    for axis, dx in zip(axes, spacings):
        if shape[axis] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                             "least (edge_order + 1) elements are required.")
        d = _derivative_along(f, axis, dx, edge_order)
        derivatives.append(d if dtype_of(d) == out_type else d.astype(out_type))
    return derivatives[0] if len(axes) == 1 else tuple(derivatives)


@derived_through(np.ediff1d)
def _ediff1d(ary, to_end=None, to_begin=None):
    flat = np.ravel(as_array(ary))
    begin, end = (_end_values(e, dtype_of(flat)) for e in (to_begin, to_end))
    return np.concatenate(begin + [flat[1:] - flat[:-1]] + end)


def _end_values(values, dtype):
    """ediff1d's ``to_begin`` or ``to_end`` as a list of at most one array of ``dtype``."""
    if values is None:
        return []
    values = np.ravel(as_array(values))
    if not np.can_cast(dtype_of(values), dtype, casting="same_kind"):
        raise TypeError("dtype of `to_begin` or `to_end` must be compatible with input `ary` "
                        "under the `same_kind` rule.")
    return [values if dtype_of(values) == dtype else values.astype(dtype)]


@derived_through(np.unwrap)
def _unwrap(p, discont=None, axis=-1, **kwargs):
    # period is keyword-only: bind has refused a traced one already.
    p = as_array(p)
    return np.unwrap(primal(p), primal(discont), axis, **kwargs) + (p - primal(p))
