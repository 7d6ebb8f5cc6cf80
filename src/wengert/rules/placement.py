"""Placing elements in a new array: tiling and repeating (copies), flips and rolls
(reorders), diagonals and triangles, padding.

All are linear in the array they place (pad with a nonzero ``constant_values`` is affine),
so most are declared by their transpose (``linear(fn, transpose)``), which gathers each
element's cotangent back from where it went, summing over its copies; forward mode applies
the function itself to the tangent. pad is hand-written: a one-element sparse tangent (a
OneHot) moves by the widths before it without forming the dense array.

Not differentiated: ``pad``'s ``constant_values``/``end_values`` (they are keyword-only, so a
traced value there is refused by bind); pad modes that compute values (linear_ramp, maximum,
mean, median, minimum, reflect_type='odd') raise DifferentiationError.
"""
import numpy as np

from ..errors import DifferentiationError
from ._helpers import (ZERO, Indexed, eye_like, forward, is_zero, linear, reverse, shape_of,
                       to_dense, unbroadcast)
from .indexing import scatter_add
from .reductions import int_position
from .shapes import axis_index


# ---------------------------------------------------------------------------------------------
# Copies of elements: the transpose sums the copies
# ---------------------------------------------------------------------------------------------


def _tile_transpose(ct, x, reps):
    shape = shape_of(x)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    ndim = max(len(shape), len(reps))
    tiled_shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    # Output index k·n + j along an axis is copy k of element j: split each axis in two.
    split_shape = sum(((int(r), n) for r, n in zip(reps, tiled_shape)), ())
    g = np.sum(np.reshape(ct, split_shape), axis=tuple(range(0, 2 * ndim, 2)))
    return np.reshape(g, shape)


def _repeat_transpose(ct, x, repeats, axis=None):
    shape = shape_of(x)
    if axis is None:
        return np.reshape(_sum_repeats(ct, (int(np.prod(shape, dtype=np.int64)),), repeats, 0),
                          shape)
    return _sum_repeats(ct, shape, repeats, axis_index(axis, len(shape)))


def _sum_repeats(ct, shape, repeats, axis):
    """Sum the copies ``np.repeat`` made along ``axis`` of an array of ``shape``."""
    n = shape[axis]
    if np.size(repeats) == 1:  # every element repeated r times: copies are adjacent
        r = int(np.reshape(repeats, ()))
        split_shape = shape[:axis] + (n, r) + shape[axis + 1:]
        return np.sum(np.reshape(ct, split_shape), axis=axis + 1)
    # Which element each copy came from: an index, NumPy's own, as indexing takes it.
    owner = np.repeat(np.arange(n), repeats)
    moved = np.moveaxis(ct, axis, 0)
    base = np.zeros_like(moved, shape=(n,) + shape_of(moved)[1:])
    return np.moveaxis(scatter_add(base, owner, moved), 0, axis)


linear(np.tile, _tile_transpose)
linear(np.repeat, _repeat_transpose)

# ---------------------------------------------------------------------------------------------
# Reordered elements: the transpose undoes the reordering
# ---------------------------------------------------------------------------------------------


def _negated(shift):
    return -shift if np.ndim(shift) == 0 else tuple(-s for s in shift)


linear(np.flip, lambda ct, x, axis=None: np.flip(ct, axis))
linear(np.fliplr, lambda ct, x: np.fliplr(ct))
linear(np.flipud, lambda ct, x: np.flipud(ct))
linear(np.rot90, lambda ct, x, k=1, axes=(0, 1): np.rot90(ct, -k, axes))
linear(np.roll, lambda ct, x, shift, axis=None: np.roll(ct, _negated(shift), axis))

# ---------------------------------------------------------------------------------------------
# Diagonals and triangles
# ---------------------------------------------------------------------------------------------


def _pad_last(v, size):
    """``v`` padded with zeros at the end of its last axis to length ``size``."""
    missing = size - shape_of(v)[-1]
    if missing == 0:
        return v
    return np.pad(v, [(0, 0)] * (len(shape_of(v)) - 1) + [(0, missing)])


def place_diagonal(values, m, n, k):
    """An array of shape ``values.shape[:-1] + (m, n)``, zero except its ``k``-th diagonal,
    which holds ``values`` (last axis)."""
    mask = eye_like(m, values, columns=n, k=k, dtype=bool)
    if k >= 0:  # diagonal element i sits in row i
        return np.where(mask, np.expand_dims(_pad_last(values, m), -1), 0)
    return np.where(mask, np.expand_dims(_pad_last(values, n), -2), 0)  # ... in column i


def _diag_transpose(ct, v, k=0):
    shape = shape_of(v)
    if len(shape) == 1:
        return np.diag(ct, k)
    return place_diagonal(ct, shape[0], shape[1], k)


def _diagonal_planes(ct_planes, x, axis1, axis2):
    """Move the two trailing axes of ``ct_planes`` to ``axis1`` and ``axis2`` of ``x``."""
    ndim = len(shape_of(x))
    return np.moveaxis(ct_planes, (-2, -1), (axis_index(axis1, ndim), axis_index(axis2, ndim)))


def _diagonal_transpose(ct, x, offset=0, axis1=0, axis2=1):
    shape = shape_of(x)
    m, n = shape[axis_index(axis1, len(shape))], shape[axis_index(axis2, len(shape))]
    return _diagonal_planes(place_diagonal(ct, m, n, offset), x, axis1, axis2)


def _trace_transpose(ct, x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    shape = shape_of(x)
    m, n = shape[axis_index(axis1, len(shape))], shape[axis_index(axis2, len(shape))]
    mask = eye_like(m, ct, columns=n, k=offset, dtype=bool)
    planes = np.where(mask, np.expand_dims(ct, (-2, -1)), 0)
    return unbroadcast(x, _diagonal_planes(planes, x, axis1, axis2))


def _triangle_transpose(triangle):
    def transpose(ct, x, k=0):
        g = triangle(ct, k)
        # A vector is read as the row of every line of the matrix: sum the lines back.
        return np.sum(g, axis=0) if len(shape_of(x)) < 2 else g
    return transpose


linear(np.diag, _diag_transpose)
linear(np.diagflat, lambda ct, v, k=0: np.reshape(np.diag(ct, k), shape_of(v)))
linear(np.diagonal, _diagonal_transpose)
linear(np.trace, _trace_transpose)
linear(np.triu, _triangle_transpose(np.triu))
linear(np.tril, _triangle_transpose(np.tril))

# ---------------------------------------------------------------------------------------------
# pad: affine in x when constant_values != 0, so it is a hand-written rule, not ``linear``
# ---------------------------------------------------------------------------------------------

_GATHER_MODES = ("edge", "wrap", "symmetric", "reflect")


def _pad_widths(pad_width, ndim):
    """``pad_width`` in any of its forms as ``ndim`` pairs ``(before, after)`` of ints."""
    if isinstance(pad_width, dict):
        widths = [(0, 0)] * ndim
        for axis, width in pad_width.items():
            widths[axis_index(axis, ndim)] = tuple(np.broadcast_to(width, (2,)))
        pad_width = widths
    return [(int(b), int(a)) for b, a in np.broadcast_to(pad_width, (ndim, 2))]


def _pad_transpose(ct, x, pad_width, mode):
    shape = shape_of(x)
    if mode in ("constant", "empty"):
        widths = _pad_widths(pad_width, len(shape))
        return ct[tuple(slice(b, b + n) for (b, _), n in zip(widths, shape))]
    # Every output element is a copy of one input element: pad the input's flat indices the
    # same way to learn which, and add the cotangents of the copies back onto their sources.
    # (The flat indices are an index array, used only for indexing: NumPy's own.)
    size = int(np.prod(shape, dtype=np.int64))
    source = np.pad(np.reshape(np.arange(size), shape), pad_width, mode=mode)
    flat = scatter_add(np.zeros_like(ct, shape=(size,)), np.ravel(source), np.ravel(ct))
    return np.reshape(flat, shape)


def _check_pad_mode(mode, kwargs):
    if not (mode in ("constant", "empty")
            or (mode in _GATHER_MODES and kwargs.get("reflect_type", "even") == "even")):
        raise DifferentiationError(
            f"np.pad(..., mode={mode!r}) on a traced value has no rule; modes 'constant', "
            "'empty', 'edge', 'wrap', 'symmetric' and 'reflect' (reflect_type='even') have one."
        )


@reverse(np.pad)
def _pad(needs, x, pad_width, mode="constant", **kwargs):
    _check_pad_mode(mode, kwargs)
    out = np.pad(x, pad_width, mode, **kwargs)

    def pad_pullback(ct):
        return (unbroadcast(x, _pad_transpose(ct, x, pad_width, mode)),) + (ZERO,) * (
            len(needs) - 1)

    return out, pad_pullback


@forward(np.pad)
def _pad_forward(tangents, x, pad_width, mode="constant", **kwargs):
    _check_pad_mode(mode, kwargs)
    out = np.pad(x, pad_width, mode, **kwargs)
    t = tangents[0]
    if is_zero(t):
        return out, ZERO
    if mode not in ("constant", "empty"):
        return out, np.pad(to_dense(t), pad_width, mode, **kwargs)
    # The padding is a constant (whatever constant_values says): its tangent is 0, and a
    # one-element tangent just moves by the widths before it.
    position = int_position(t) if isinstance(t, Indexed) else None
    if position is not None:
        widths = _pad_widths(pad_width, len(position))
        return out, Indexed(tuple(p + b for p, (b, _) in zip(position, widths)), t.values,
                            shape_of(out), t.dtype)
    return out, np.pad(to_dense(t), pad_width)
