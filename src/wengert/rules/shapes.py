"""Shape functions: reshaping, transposing, joining, splitting, tiling, diagonals, padding.

They are linear in the array they rearrange (pad with nonzero constant_values is affine), so
most are declared by their transpose (``linear(fn, transpose)``). Functions that join a list of arrays (concatenate, stack, ...)
return, for that list argument, a list of cotangents, one per element; functions that split
an array (split, unstack, ...) return a list and their pullback receives one cotangent per
part, ``Zero`` for the parts that were not used.

Order 'A'/'K' of reshape and ravel are read as 'F' for an F-contiguous array, 'C' otherwise
(exact for contiguous arrays). Not differentiated: ``pad``'s ``constant_values``/``end_values`` (they are keyword-only, so a
traced value there is refused by bind); pad modes that compute values (linear_ramp, maximum,
mean, median, minimum, reflect_type='odd') raise DifferentiationError.
"""
import numpy as np

from ..core.levels import primal
from ..errors import DifferentiationError
from ._helpers import ZERO, dense, is_zero, linear, reverse, shape_of, unbroadcast
from .indexing import scatter_add


def _shape(a):
    """The shape of an argument that may be a nested list rather than an array."""
    return a.shape if hasattr(a, "shape") else np.shape(a)


def _project(a, g):
    """``g`` with the dtype of ``a`` (real if ``a`` is real), for arguments of any kind."""
    if hasattr(a, "dtype") or isinstance(a, (int, float, complex)):
        return unbroadcast(a, g)
    return g


def _axis(axis, ndim):
    return int(axis) % ndim if ndim else 0


def _read_order(x, order):
    """The index order that 'A' and 'K' amount to for ``x`` (exact for contiguous arrays)."""
    if order in ("A", "K"):
        flags = getattr(primal(x), "flags", None)
        return "F" if flags is not None and flags.f_contiguous and not flags.c_contiguous else "C"
    return order


# ---------------------------------------------------------------------------------------------
# Same elements, new shape: the transpose reshapes back
# ---------------------------------------------------------------------------------------------


def _reshape_back(ct, x, *args, **kwargs):
    return np.reshape(ct, shape_of(x))


def _reshape_transpose(ct, x, shape=None, order="C", **kwargs):
    return np.reshape(ct, shape_of(x), order=_read_order(x, order))


def _ravel_transpose(ct, x, order="C"):
    return np.reshape(ct, shape_of(x), order=_read_order(x, order))


linear(np.reshape, _reshape_transpose)
linear(np.ravel, _ravel_transpose)
linear(np.squeeze, _reshape_back)
linear(np.expand_dims, _reshape_back)
linear(np.copy, lambda ct, x, *args, **kwargs: ct)


def _atleast(fn):
    """atleast_1d/2d/3d: one argument gives an array, several give a tuple of arrays."""
    def rule(needs, *arys):
        out = fn(*arys)

        def atleast_pullback(ct):
            cts = (ct,) if len(arys) == 1 else ct
            return tuple(np.reshape(c, _shape(a)) if need and not is_zero(c) else ZERO
                         for a, c, need in zip(arys, cts, needs))

        return out, atleast_pullback

    return rule


for _fn in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    reverse(_fn)(_atleast(_fn))

# ---------------------------------------------------------------------------------------------
# Permuted axes: the transpose applies the inverse permutation
# ---------------------------------------------------------------------------------------------


def inverse_permutation(axes):
    inverse = [0] * len(axes)
    for position, axis in enumerate(axes):
        inverse[axis] = position
    return tuple(inverse)


def _transpose_transpose(ct, x, axes=None):
    if axes is None:
        return np.transpose(ct)
    ndim = len(shape_of(x))
    return np.transpose(ct, inverse_permutation([_axis(a, ndim) for a in axes]))


def _rollaxis_permutation(ndim, axis, start):
    """The axes order np.rollaxis(x, axis, start) produces."""
    axis = _axis(axis, ndim)
    start = start + ndim if start < 0 else start
    if axis < start:
        start -= 1
    order = [i for i in range(ndim) if i != axis]
    order.insert(start, axis)
    return order


def _rollaxis_transpose(ct, x, axis, start=0):
    ndim = len(shape_of(x))
    return np.transpose(ct, inverse_permutation(_rollaxis_permutation(ndim, axis, start)))


linear(np.transpose, _transpose_transpose)  # also np.permute_dims, the same function
linear(np.moveaxis, lambda ct, x, source, destination: np.moveaxis(ct, destination, source))
linear(np.swapaxes, lambda ct, x, axis1, axis2: np.swapaxes(ct, axis1, axis2))
linear(np.rollaxis, _rollaxis_transpose)
if hasattr(np, "matrix_transpose"):
    linear(np.matrix_transpose, lambda ct, x: np.swapaxes(ct, -1, -2))

# ---------------------------------------------------------------------------------------------
# Broadcasting: the transpose sums over the broadcast axes
# ---------------------------------------------------------------------------------------------

linear(np.broadcast_to, lambda ct, x, shape, subok=False: unbroadcast(x, ct))


@reverse(np.broadcast_arrays)
def _broadcast_arrays(needs, *args, subok=False):
    out = np.broadcast_arrays(*args, subok=subok)

    def broadcast_arrays_pullback(cts):
        return tuple(unbroadcast(a, c) if need and not is_zero(c) else ZERO
                     for a, c, need in zip(args, cts, needs))

    return out, broadcast_arrays_pullback


# ---------------------------------------------------------------------------------------------
# Joining: the cotangent is split back into one piece per joined array
# ---------------------------------------------------------------------------------------------


def _concatenate_layout(shapes, axis=0, *args, **kwargs):
    if axis is None:
        return [(int(np.prod(s, dtype=np.int64)),) for s in shapes], 0
    return shapes, _axis(axis, len(shapes[0]))


def _stack_layout(shapes, axis=0, *args, **kwargs):
    axis = _axis(axis, len(shapes[0]) + 1)
    return [s[:axis] + (1,) + s[axis:] for s in shapes], axis


def _at_least(shape, ndim):
    """The shape np.atleast_{ndim}d gives an array of ``shape``."""
    if len(shape) >= ndim:
        return shape
    if ndim == 3:
        return {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)]
    return (1,) * (ndim - len(shape)) + shape


def _hstack_layout(shapes, *args, **kwargs):
    shapes = [_at_least(s, 1) for s in shapes]
    return shapes, 0 if len(shapes[0]) == 1 else 1


def _vstack_layout(shapes, *args, **kwargs):
    return [_at_least(s, 2) for s in shapes], 0


def _dstack_layout(shapes, *args, **kwargs):
    return [_at_least(s, 3) for s in shapes], 2


def _column_stack_layout(shapes, *args, **kwargs):
    return [s if len(s) >= 2 else (int(np.prod(s, dtype=np.int64)), 1) for s in shapes], 1


def split_cotangent(ct, arrays, layout, *args, **kwargs):
    """The pieces of ``ct`` that came from each of ``arrays``, each shaped like its array.

    ``layout(shapes, *args, **kwargs)`` gives the shape each array had inside the joined
    result and the axis along which they were joined."""
    shapes = [tuple(_shape(a)) for a in arrays]
    placed, axis = layout(shapes, *args, **kwargs)
    bounds = np.cumsum([s[axis] for s in placed])[:-1]
    pieces = np.split(ct, [int(b) for b in bounds], axis=axis)
    return [_project(a, np.reshape(p, s)) for a, p, s in zip(arrays, pieces, shapes)]


def joining(fn, layout):
    """Declare ``fn(arrays, *args, **kwargs)``, which joins a list of arrays."""
    def rule(needs, arrays, *args, **kwargs):
        out = fn(arrays, *args, **kwargs)

        def joining_pullback(ct):
            if type(arrays) in (list, tuple):
                cts = split_cotangent(ct, arrays, layout, *args, **kwargs)
            else:  # an array given as the sequence of its rows: join the rows' cotangents
                cts = np.stack(split_cotangent(ct, list(arrays), layout, *args, **kwargs))
            return (cts,) + (ZERO,) * len(args)

        return out, joining_pullback

    reverse(fn)(rule)


joining(np.concatenate, _concatenate_layout)  # also np.concat, the same function
joining(np.stack, _stack_layout)
joining(np.hstack, _hstack_layout)
joining(np.vstack, _vstack_layout)
joining(np.dstack, _dstack_layout)
joining(np.column_stack, _column_stack_layout)


@reverse(np.append)
def _append(needs, arr, values, axis=None):
    out = np.append(arr, values, axis=axis)

    def append_pullback(ct):
        d_arr, d_values = split_cotangent(ct, [arr, values], _concatenate_layout, axis)
        return (d_arr if needs[0] else ZERO, d_values if needs[1] else ZERO) + (ZERO,) * (
            len(needs) - 2)

    return out, append_pullback


# ---------------------------------------------------------------------------------------------
# Splitting: several outputs; the pullback joins their cotangents (Zero for unused parts)
# ---------------------------------------------------------------------------------------------


def splitting(fn, join):
    """Declare ``fn(x, *args, **kwargs)``, which returns a list of parts of ``x``;
    ``join(dense_cts, x, *args, **kwargs)`` puts their cotangents back together."""
    def rule(needs, x, *args, **kwargs):
        parts = fn(x, *args, **kwargs)

        def splitting_pullback(cts):
            g = join([dense(c, p) for c, p in zip(cts, parts)], x, *args, **kwargs)
            return (unbroadcast(x, g),) + (ZERO,) * len(args)

        return parts, splitting_pullback

    reverse(fn)(rule)


def _join_along(axis_of):
    def join(cts, x, *args, **kwargs):
        return np.concatenate(cts, axis=axis_of(len(shape_of(x)), *args, **kwargs))
    return join


def _split_axis(ndim, indices_or_sections, axis=0):
    return axis


splitting(np.split, _join_along(_split_axis))
splitting(np.array_split, _join_along(_split_axis))
splitting(np.hsplit, _join_along(lambda ndim, sections: 1 if ndim > 1 else 0))
splitting(np.vsplit, _join_along(lambda ndim, sections: 0))
splitting(np.dsplit, _join_along(lambda ndim, sections: 2))
if hasattr(np, "unstack"):
    splitting(np.unstack, lambda cts, x, *, axis=0: np.stack(cts, axis=axis))

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
    return _sum_repeats(ct, shape, repeats, _axis(axis, len(shape)))


def _sum_repeats(ct, shape, repeats, axis):
    """Sum the copies ``np.repeat`` made along ``axis`` of an array of ``shape``."""
    n = shape[axis]
    if np.size(repeats) == 1:  # every element repeated r times: copies are adjacent
        r = int(np.reshape(repeats, ()))
        split_shape = shape[:axis] + (n, r) + shape[axis + 1:]
        return np.sum(np.reshape(ct, split_shape), axis=axis + 1)
    owner = np.repeat(np.arange(n), repeats)  # which element each copy came from
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
    mask = np.eye(m, n, k, dtype=bool)
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
    return np.moveaxis(ct_planes, (-2, -1), (_axis(axis1, ndim), _axis(axis2, ndim)))


def _diagonal_transpose(ct, x, offset=0, axis1=0, axis2=1):
    shape = shape_of(x)
    m, n = shape[_axis(axis1, len(shape))], shape[_axis(axis2, len(shape))]
    return _diagonal_planes(place_diagonal(ct, m, n, offset), x, axis1, axis2)


def _trace_transpose(ct, x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    shape = shape_of(x)
    m, n = shape[_axis(axis1, len(shape))], shape[_axis(axis2, len(shape))]
    planes = np.where(np.eye(m, n, offset, dtype=bool), np.expand_dims(ct, (-2, -1)), 0)
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
            widths[_axis(axis, ndim)] = tuple(np.broadcast_to(width, (2,)))
        pad_width = widths
    return [(int(b), int(a)) for b, a in np.broadcast_to(pad_width, (ndim, 2))]


def _pad_transpose(ct, x, pad_width, mode):
    shape = shape_of(x)
    if mode in ("constant", "empty"):
        widths = _pad_widths(pad_width, len(shape))
        return ct[tuple(slice(b, b + n) for (b, _), n in zip(widths, shape))]
    # Every output element is a copy of one input element: pad the input's flat indices the
    # same way to learn which, and add the cotangents of the copies back onto their sources.
    size = int(np.prod(shape, dtype=np.int64))
    source = np.pad(np.reshape(np.arange(size), shape), pad_width, mode=mode)
    flat = scatter_add(np.zeros_like(ct, shape=(size,)), np.ravel(source), np.ravel(ct))
    return np.reshape(flat, shape)


@reverse(np.pad)
def _pad(needs, x, pad_width, mode="constant", **kwargs):
    if not (mode in ("constant", "empty")
            or (mode in _GATHER_MODES and kwargs.get("reflect_type", "even") == "even")):
        raise DifferentiationError(
            f"np.pad(..., mode={mode!r}) on a traced value has no rule; modes 'constant', "
            "'empty', 'edge', 'wrap', 'symmetric' and 'reflect' (reflect_type='even') have one."
        )
    out = np.pad(x, pad_width, mode, **kwargs)

    def pad_pullback(ct):
        return (unbroadcast(x, _pad_transpose(ct, x, pad_width, mode)),) + (ZERO,) * (
            len(needs) - 1)

    return out, pad_pullback
