"""Shape functions: reshaping, transposing, broadcasting, casting — the same elements in a
new shape, axis order or dtype.

They are linear in the array they rearrange, so most are declared by their transpose
(``linear(fn, transpose)``), which gives both modes: forward mode applies the function
itself to the tangent. Functions that only move elements (reshape, ravel, squeeze,
expand_dims, transpose, moveaxis, swapaxes) also carry a one-element sparse tangent (a
OneHot) to its new position without forming the dense array. Tiling, flips, diagonals and
padding are in ``placement``; joining and splitting in ``joins``.

Order 'A'/'K' of reshape and ravel are read as 'F' for an F-contiguous array, 'C' otherwise
(exact for contiguous arrays).
"""
import numpy as np

from ..core.levels import primal
from ..arraytypes import astype, implementation
from ._helpers import (ZERO, Indexed, dtype_of, forward, is_complex, is_zero, linear, reverse,
                       shape_of, to_dense, unbroadcast)
from .reductions import int_position


def array_shape(a):
    """The shape of an argument that may be a nested list rather than an array."""
    return a.shape if hasattr(a, "shape") else np.shape(a)


def axis_index(axis, ndim):
    return int(axis) % ndim if ndim else 0


def _read_order(x, order):
    """The index order that 'A' and 'K' amount to for ``x`` (exact for contiguous arrays)."""
    if order in ("A", "K"):
        flags = getattr(primal(x), "flags", None)
        return "F" if flags is not None and flags.f_contiguous and not flags.c_contiguous else "C"
    return order


def _order_keyword(x, order):
    """``order=`` as keywords, none for C order (Dask's reshape and ravel take none)."""
    order = _read_order(x, order)
    return {} if order == "C" else {"order": order}


def layout(x):
    """An array of ``x``'s shape holding no data (every stride 0): a shape function applied
    to it gives the shape of its result without touching, or allocating, any element."""
    # One NumPy bool, never combined with a value: only its shape is read.
    return np.broadcast_to(np.empty((), bool), shape_of(x))


# ---------------------------------------------------------------------------------------------
# Same elements, new shape: the transpose reshapes back
# ---------------------------------------------------------------------------------------------


def reflowed(t, shape, order="C"):
    """A one-element sparse tangent moved to an array of ``shape`` that holds the same
    elements in the same ``order`` ('C' or 'F'); None for other sparse tangents."""
    position = int_position(t)
    if position is None or order not in ("C", "F"):
        return None
    flat = np.ravel_multi_index(position, t.shape, order=order) if position else 0
    new = np.unravel_index(flat, shape, order=order) if shape else ()
    return Indexed(tuple(int(i) for i in new), t.values, shape, t.dtype)


def _same_order(fn):
    """The ``sparse=`` handler of ``fn``, which keeps the elements in C order."""
    def sparse(t, x, *args, **kwargs):
        return reflowed(t, fn(layout(x), *args, **kwargs).shape)
    return sparse


def _reshape_back(ct, x, *args, **kwargs):
    return np.reshape(ct, shape_of(x))


def _reshape_transpose(ct, x, shape=None, order="C", **kwargs):
    return np.reshape(ct, shape_of(x), **_order_keyword(x, order))


def _reshape_tangent(t, x, shape=None, order="C", **kwargs):
    # 'A' must mean x's order, not that of the (C-ordered) tangent array.
    return np.reshape(t, shape, **_order_keyword(x, order), **kwargs)


def _reshape_sparse(t, x, shape=None, order="C", **kwargs):
    order = _read_order(x, order)
    return reflowed(t, np.reshape(layout(x), shape, order=order).shape, order)


def _ravel_transpose(ct, x, order="C"):
    return np.reshape(ct, shape_of(x), **_order_keyword(x, order))


def _ravel_tangent(t, x, order="C"):
    return np.ravel(t, **_order_keyword(x, order))


def _ravel_sparse(t, x, order="C"):
    return reflowed(t, (int(np.prod(t.shape, dtype=np.int64)),), _read_order(x, order))


linear(np.reshape, _reshape_transpose, tangent=_reshape_tangent, sparse=_reshape_sparse)
linear(np.ravel, _ravel_transpose, tangent=_ravel_tangent, sparse=_ravel_sparse)
linear(np.squeeze, _reshape_back, sparse=_same_order(np.squeeze))
linear(np.expand_dims, _reshape_back, sparse=_same_order(np.expand_dims))
def _copy(a, *args, **kwargs):
    """np.copy, or the array library's own copy where it has no np.copy (Dask)."""
    return implementation(np.copy, a)(a, *args, **kwargs)


linear(np.copy, lambda ct, x, *args, **kwargs: ct, sparse=lambda t, x, *args, **kwargs: t,
       compute=_copy)


def reshaped_tangent(t, shape):
    """Tangent ``t`` of an array given ``shape``, the same elements in C order."""
    if is_zero(t):
        return ZERO
    if isinstance(t, Indexed):
        moved = reflowed(t, shape)
        return moved if moved is not None else np.reshape(to_dense(t), shape)
    return np.reshape(t, shape)


def _atleast(fn):
    """atleast_1d/2d/3d: one argument gives an array, several give a tuple of arrays."""
    def rule(needs, *arys):
        out = fn(*arys)

        def atleast_pullback(ct):
            cts = (ct,) if len(arys) == 1 else ct
            return tuple(np.reshape(c, array_shape(a)) if need and not is_zero(c) else ZERO
                         for a, c, need in zip(arys, cts, needs))

        return out, atleast_pullback

    return rule


def _atleast_frule(fn):
    def frule(tangents, *arys):
        out = fn(*arys)
        outs = (out,) if len(arys) == 1 else out
        dys = tuple(reshaped_tangent(t, shape_of(o)) for t, o in zip(tangents, outs))
        return out, dys[0] if len(arys) == 1 else dys

    return frule


for _fn in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    reverse(_fn)(_atleast(_fn))
    forward(_fn)(_atleast_frule(_fn))

# ---------------------------------------------------------------------------------------------
# Permuted axes: the transpose applies the inverse permutation
# ---------------------------------------------------------------------------------------------


def inverse_permutation(axes):
    inverse = [0] * len(axes)
    for position, axis in enumerate(axes):
        inverse[axis] = position
    return tuple(inverse)


def axis_order(fn, ndim, *args, **kwargs):
    """For each axis of ``fn(x, *args, **kwargs)``, the axis of ``x`` it is (``fn`` permutes
    axes: transpose, moveaxis, ...). Read off a probe whose axis i has stride i + 1 and
    length 1, so that the probe needs one byte whatever the strides."""
    probe = np.ndarray((1,) * ndim, np.int8, buffer=bytearray(1),
                       strides=tuple(range(1, ndim + 1)))
    return [s - 1 for s in fn(probe, *args, **kwargs).strides]


def _permuted(fn):
    """The ``sparse=`` handler of ``fn``, which permutes axes: permute the position."""
    def sparse(t, x, *args, **kwargs):
        position = int_position(t)
        if position is None:
            return None
        order = axis_order(fn, len(t.shape), *args, **kwargs)
        return Indexed(tuple(position[a] for a in order), t.values,
                       tuple(t.shape[a] for a in order), t.dtype)
    return sparse


def _transpose_transpose(ct, x, axes=None):
    if axes is None:
        return np.transpose(ct)
    ndim = len(shape_of(x))
    return np.transpose(ct, inverse_permutation([axis_index(a, ndim) for a in axes]))


def _rollaxis_permutation(ndim, axis, start):
    """The axes order np.rollaxis(x, axis, start) produces."""
    axis = axis_index(axis, ndim)
    start = start + ndim if start < 0 else start
    if axis < start:
        start -= 1
    order = [i for i in range(ndim) if i != axis]
    order.insert(start, axis)
    return order


def _rollaxis_transpose(ct, x, axis, start=0):
    ndim = len(shape_of(x))
    return np.transpose(ct, inverse_permutation(_rollaxis_permutation(ndim, axis, start)))


# np.transpose is also np.permute_dims, the same function.
linear(np.transpose, _transpose_transpose, sparse=_permuted(np.transpose))
linear(np.moveaxis, lambda ct, x, source, destination: np.moveaxis(ct, destination, source),
       sparse=_permuted(np.moveaxis))
linear(np.swapaxes, lambda ct, x, axis1, axis2: np.swapaxes(ct, axis1, axis2),
       sparse=_permuted(np.swapaxes))
linear(np.rollaxis, _rollaxis_transpose, sparse=_permuted(np.rollaxis))
if hasattr(np, "matrix_transpose"):
    linear(np.matrix_transpose, lambda ct, x: np.swapaxes(ct, -1, -2),
           sparse=_permuted(np.matrix_transpose))

# ---------------------------------------------------------------------------------------------
# Broadcasting: the transpose sums over the broadcast axes; a sparse tangent densifies
# ---------------------------------------------------------------------------------------------

linear(np.broadcast_to, lambda ct, x, shape, subok=False: unbroadcast(x, ct))


@reverse(np.broadcast_arrays)
def _broadcast_arrays(needs, *args, subok=False):
    out = np.broadcast_arrays(*args, subok=subok)

    def broadcast_arrays_pullback(cts):
        return tuple(unbroadcast(a, c) if need and not is_zero(c) else ZERO
                     for a, c, need in zip(args, cts, needs))

    return out, broadcast_arrays_pullback


@forward(np.broadcast_arrays)
def _broadcast_arrays_forward(tangents, *args, subok=False):
    out = np.broadcast_arrays(*args, subok=subok)
    return out, tuple(ZERO if is_zero(t) else np.broadcast_to(to_dense(t), shape_of(o))
                      for t, o in zip(tangents, out))


# ---------------------------------------------------------------------------------------------
# x.astype(dtype): the method calls arraytypes.astype; both rules are here, side by side
# ---------------------------------------------------------------------------------------------


@reverse(astype)
def _astype_reverse(needs, x, dtype):
    out = astype(x, dtype)
    if dtype.kind not in "fc":
        return out, None   # a cast to integers or booleans is piecewise constant

    def astype_pullback(ct):
        # Back to the input's precision; a real input keeps the real part only.
        return (_cast(ct, dtype_of(x)), ZERO)

    return out, astype_pullback


def _cast(t, dtype):
    """A tangent cast like its primal; casting complex to real keeps the real part."""
    if dtype.kind != "c" and is_complex(t):
        t = np.real(t)
    return astype(t, dtype)


@forward(astype)
def _astype_forward(tangents, x, dtype):
    out = astype(x, dtype)
    t = tangents[0]
    if dtype.kind not in "fc" or is_zero(t):
        return out, ZERO   # a cast to integers or booleans is piecewise constant
    if isinstance(t, Indexed):
        return out, Indexed(t.index, _cast(t.values, dtype), t.shape, dtype)
    return out, _cast(t, dtype)
