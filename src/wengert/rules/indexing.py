"""Indexing: x[i] and the functions that select elements (take, take_along_axis, where,
select, choose).

Reading ``x[index]`` is linear in ``x``: its pullback places the cotangent at ``index`` of a
zero array. That array stays sparse (``Indexed``) until the tape adds it into a dense slot in
place, so a Python loop reading every ``x[i]`` costs O(1) per read, not O(len(x)). Under
nested differentiation the cotangent is itself traced, and the placement is the primitive
``scatter_add``, whose own pullback is indexing again.

Forward mode reads the tangent with the same index. A sparse tangent that pins axes to one
coordinate (the ``OneHot`` point of ``wg.partial`` and forward Jacobians; the row or column
a matmul makes of it) read by a basic index (integers, slices, newaxis, ellipsis) stays
sparse: it lands at the same place in the result's coordinates, or is ``Zero`` where the read
misses it, so the same Python loop costs O(1) per read in forward mode too. Other reads
densify it.
"""
import operator

import numpy as np

from ..arraytypes import of_numpy_kind, placed_like
from ..tangents import Indexed, use_traced_scatter
from ._helpers import (ZERO, Tracer, asarray_like, primitive, dtype_of, forward, is_zero,
                       reverse, selected, shape_of, to_dense, unbroadcast, zeros_like_value)


def place_at(x, index, ct):
    """The cotangent of ``x`` given the cotangent ``ct`` of ``x[index]``: ``ct`` placed at
    ``index`` of zeros shaped like ``x`` (repeated indices add up)."""
    return _placed(shape_of(x), dtype_of(x), index, ct, x)


def _placed(shape, x_dtype, index, ct, x=None):
    """``place_at`` from x's shape and dtype; ``x`` itself (None for a NumPy array) makes
    the zeros that a traced ``ct`` is scattered into."""
    if x_dtype.kind != "c" and dtype_of(ct).kind == "c":
        ct = np.real(ct)  # a real input's cotangent is real
    if isinstance(ct, Tracer):
        zeros = zeros_like_value(ct, shape, x_dtype) if x is None else np.zeros_like(x)
        return scatter_add(zeros, index, ct)
    if not of_numpy_kind(ct):   # another library's array (Dask's): placed by that library
        return placed_like(ct, index, ct, shape, x_dtype)
    return Indexed(index, ct, shape, x_dtype)


def _selection_rule(select, index_of):
    """A rule for ``select(x, *rest, **kwargs)`` that equals ``x[index_of(shape, *rest,
    **kwargs)]``: only ``x`` gets a cotangent."""
    def rule(needs, x, *rest, **kwargs):
        out = select(x, *rest, **kwargs)

        def selection_pullback(ct):
            index = index_of(shape_of(x), *rest, **kwargs)
            return (place_at(x, index, ct),) + (ZERO,) * len(rest)

        return out, selection_pullback

    return rule


@reverse(operator.getitem)
def _getitem(needs, x, index):
    # Written out rather than made by _selection_rule: Python loops read x[i] often.
    if type(x) is np.ndarray:
        # The pullback keeps x's shape and dtype, not x: a later write into x may then
        # write into its array in place, as nothing saved it (see core/mutation.py).
        # Bound as defaults, not closed over: one object per read for the collector to
        # walk, not four (a function and three cells), in loops that read every element.
        def getitem_pullback(ct, shape=x.shape, x_dtype=x.dtype, index=index):
            return (_placed(shape, x_dtype, index, ct), ZERO)
    else:
        def getitem_pullback(ct):
            return (place_at(x, index, ct), ZERO)

    return x[index], getitem_pullback


@forward(operator.getitem)
def _getitem_forward(tangents, x, index):
    out = x[index]
    t = tangents[0]
    if isinstance(t, Indexed):
        read = read_point(t, index, shape_of(out), dtype_of(out))
        if read is not None:
            return out, read
        t = to_dense(t)
    elif type(t) in (float, complex):   # the tangent of a NumPy scalar read with x[()]
        return out, t
    return out, t[index]


# ---------------------------------------------------------------------------------------------
# Sparse tangents read by basic indices
# ---------------------------------------------------------------------------------------------

def _is_int(i):
    return (type(i) is int or isinstance(i, np.integer)) and not isinstance(i, (bool, np.bool_))


def _basic_items(index, ndim):
    """``index`` as a tuple of ints, slices and Nones that names every one of ``ndim`` axes
    (the ellipsis expanded, missing trailing axes filled), or None for an advanced index."""
    items = index if type(index) is tuple else (index,)
    if not all(i is None or i is Ellipsis or type(i) is slice or _is_int(i) for i in items):
        return None
    consumed = sum(1 for i in items if i is not None and i is not Ellipsis)
    fill = (slice(None),) * (ndim - consumed)
    if Ellipsis in items:   # `in` compares by ==, safe here: no arrays among the items
        at = items.index(Ellipsis)
        return items[:at] + fill + items[at + 1:]
    return items + fill


def _position_in(item, n, p):
    """Where coordinate ``p`` of an axis of length ``n`` lands after reading ``item`` there:
    () for an integer that hits it (the axis goes away), ``(q,)`` for a slice that contains
    it at position q, None where the read misses it."""
    if type(item) is not slice:
        return () if int(item) % n == p else None
    start, stop, step = item.indices(n)
    q, r = divmod(p - start, step)
    return (q,) if r == 0 and 0 <= q < len(range(start, stop, step)) else None


def _pinned_axes(t):
    """``t.index`` as one entry per axis of ``t``: the coordinate where an integer pins the
    axis, None for a whole axis (``:`` or an ellipsis) along which the values run; None
    overall for any other index (arrays, partial slices)."""
    items = _basic_items(t.index, len(t.shape))
    if items is None or len(items) != len(t.shape):   # a newaxis is no index of ``x``
        return None
    if any(type(i) is slice and i != slice(None) for i in items):
        return None
    return [None if type(i) is slice else int(i) % n for i, n in zip(items, t.shape)]


def point_of(t):
    """Where a sparse tangent holds its one nonzero value, as a tuple of non-negative ints,
    or None for any other sparse tangent (a row, a column, advanced indices)."""
    pinned = _pinned_axes(t)
    if pinned is None or None in pinned or shape_of(t.values) != ():
        return None
    return tuple(pinned)


def read_point(t, index, out_shape, out_dtype):
    """The tangent of ``x[index]`` for a sparse tangent ``t`` of ``x`` that pins some axes to
    one coordinate (a one-hot point, a row, a column): an ``Indexed`` in the result's
    coordinates, ``Zero`` where the read misses the pinned coordinates, or None when either
    index is not basic (the caller densifies)."""
    pinned = _pinned_axes(t)
    items = None if pinned is None else _basic_items(index, len(t.shape))
    if items is None:
        return None
    out_index, value_items, axis = [], [], 0
    for item in items:
        if item is None:   # a new axis of length 1: the tangent sits at 0 along it
            out_index.append(0)
            continue
        p, n = pinned[axis], t.shape[axis]
        axis += 1
        if p is None:   # the values run along this axis: the read applies to them
            value_items.append(item)
            if type(item) is slice:
                out_index.append(slice(None))
            continue
        landed = _position_in(item, n, p)
        if landed is None:
            return ZERO
        out_index.extend(landed)
    values = t.values
    if any(type(i) is not slice or i != slice(None) for i in value_items):
        free_shape = tuple(n for p, n in zip(pinned, t.shape) if p is None)
        if shape_of(values) != free_shape:
            values = np.broadcast_to(values, free_shape)
        values = values[tuple(value_items)]
    while out_index and type(out_index[-1]) is slice:
        out_index.pop()
    if not out_index:   # nothing pinned: the values are the whole result
        return values if shape_of(values) == out_shape else np.broadcast_to(values, out_shape)
    return Indexed(tuple(out_index), values, out_shape, out_dtype)


# ---------------------------------------------------------------------------------------------
# scatter_add: the dense placement, differentiable to any order
# ---------------------------------------------------------------------------------------------

@primitive
def scatter_add(base, index, values):
    """``base`` with ``values`` added at ``index`` (repeated indices accumulate); functional."""
    dtype = np.result_type(dtype_of(base), dtype_of(values))
    if not of_numpy_kind(base):   # another library's array (Dask's): placed by that library
        return base + placed_like(base, index, values, shape_of(base), dtype)
    result = np.array(base, dtype=dtype)
    np.add.at(result, index, values)
    return result


use_traced_scatter(scatter_add)   # sparse tangents of nested levels become dense through it


@reverse(scatter_add)
def _scatter_add(needs, base, index, values):
    out = scatter_add(base, index, values)

    def scatter_add_pullback(ct):
        values_ct = ZERO
        if needs[2]:
            values_ct = ct[index]
            extra = len(shape_of(values)) - len(shape_of(values_ct))
            if extra > 0:  # values may carry leading axes of length 1 that indexing drops
                values_ct = np.reshape(values_ct, (1,) * extra + shape_of(values_ct))
            values_ct = unbroadcast(values, values_ct)
        return (unbroadcast(base, ct) if needs[0] else ZERO, ZERO, values_ct)

    return out, scatter_add_pullback


@forward(scatter_add)
def _scatter_add_forward(tangents, base, index, values):
    out = scatter_add(base, index, values)
    base_t, _, values_t = tangents
    if is_zero(values_t):
        return out, base_t
    return out, scatter_add(dense_or_zeros(base_t, base), index, to_dense(values_t))


def dense_or_zeros(t, x):
    """A tangent of ``x`` as an array: zeros like ``x`` for ``Zero``."""
    return np.zeros_like(x) if is_zero(t) else to_dense(t)


# ---------------------------------------------------------------------------------------------
# take, take_along_axis: indexing in other words
# ---------------------------------------------------------------------------------------------

def _in_range(indices, n, mode):
    """Indices as np.take's ``mode`` reads them, made non-negative."""
    indices = asarray_like(indices)   # NumPy's, or staged by wg.compile
    if mode == "clip":
        return np.clip(indices, 0, n - 1)
    return indices % n  # 'raise' (already checked by the forward call) and 'wrap'


def _take_index(shape, indices, axis=None, out=None, mode="raise"):
    if axis is None:  # np.take reads the flattened array
        return np.unravel_index(_in_range(indices, int(np.prod(shape)), mode), shape)
    axis = axis % len(shape)
    return (slice(None),) * axis + (_in_range(indices, shape[axis], mode),)


def _take_along_axis_index(shape, indices, axis=-1):
    if axis is None:
        return np.unravel_index(_in_range(indices, int(np.prod(shape)), "raise"), shape)
    axis = axis % len(shape)
    ndim = len(shape)
    # The other axes are read in place: an arange along each, broadcast against indices
    # (index arrays, used only for indexing: NumPy's own).
    return tuple(
        _in_range(indices, n, "raise") if d == axis
        else np.reshape(np.arange(n), (1,) * d + (n,) + (1,) * (ndim - d - 1))
        for d, n in enumerate(shape)
    )


def _selection_frule(select):
    """The forward rule of a selection ``select(x, *rest, **kwargs)``: the same selection of
    the tangent (dense: take's repeated and clipped indices are not worth a sparse path)."""
    def frule(tangents, x, *rest, **kwargs):
        out = select(x, *rest, **kwargs)
        kwargs.pop("out", None)   # that array holds the value; the tangent gets its own
        return out, select(to_dense(tangents[0]), *rest, **kwargs)

    return frule


for _select, _index_of in ((np.take, _take_index),
                           (np.take_along_axis, _take_along_axis_index)):
    reverse(_select)(_selection_rule(_select, _index_of))
    forward(_select)(_selection_frule(_select))


# ---------------------------------------------------------------------------------------------
# where, select, choose: each output element comes from one of several arrays
# ---------------------------------------------------------------------------------------------

def _taken(x, chosen, ct):
    """The cotangent of the branch ``x`` that supplied the elements where ``chosen`` holds.
    Elsewhere it is exactly zero, never ``ct`` times something, so a branch not taken cannot
    leak NaN or infinity."""
    return unbroadcast(x, selected(np.where(chosen, ct, 0)))


@reverse(np.where)
def _where(needs, condition, x=None, y=None):
    if x is None and y is None:
        return np.where(condition), None
    out = np.where(condition, x, y)

    def where_pullback(ct):
        return (
            ZERO,
            _taken(x, condition, ct) if needs[1] else ZERO,
            _taken(y, np.logical_not(condition), ct) if needs[2] else ZERO,
        )

    return out, where_pullback


@forward(np.where)
def _where_forward(tangents, condition, x=None, y=None):
    if x is None and y is None:
        return np.where(condition), ZERO
    out = np.where(condition, x, y)
    x_t, y_t = tangents[1], tangents[2]
    out_shape = shape_of(out)
    if is_zero(y_t) and isinstance(x_t, Indexed) and shape_of(x) == out_shape:
        return out, _where_sparse(condition, x_t, out)
    if is_zero(x_t) and isinstance(y_t, Indexed) and shape_of(y) == out_shape:
        return out, _where_sparse(np.logical_not(condition), y_t, out)
    taken = np.where(condition, 0 if is_zero(x_t) else to_dense(x_t),
                     0 if is_zero(y_t) else to_dense(y_t))
    return out, taken if shape_of(taken) == out_shape else np.broadcast_to(taken, out_shape)


def _where_sparse(chosen, t, out):
    """A sparse tangent of the only branch that has one, kept where ``chosen`` holds: the
    condition is read at the tangent's index only."""
    out_shape = shape_of(out)
    if shape_of(chosen) != out_shape or not hasattr(chosen, "shape"):
        chosen = np.broadcast_to(chosen, out_shape)
    return Indexed(t.index, np.where(chosen[t.index], t.values, 0), out_shape, dtype_of(out))


@reverse(np.select)
def _select(needs, condlist, choicelist, default=0):
    out = np.select(condlist, choicelist, default)

    def select_pullback(ct):
        # Which choice each element took (the first true condition; the default is last).
        n = len(choicelist)
        chosen = np.select(condlist, list(range(n)), n)
        choices_ct = ZERO
        if needs[1]:
            choices_ct = [_taken(c, chosen == k, ct) for k, c in enumerate(choicelist)]
        default_ct = _taken(default, chosen == n, ct) if len(needs) > 2 and needs[2] else ZERO
        return (ZERO, choices_ct, default_ct)[: len(needs)]

    return out, select_pullback


@forward(np.select)
def _select_forward(tangents, condlist, choicelist, default=0):
    out = np.select(condlist, choicelist, default)
    choices_t = tangents[1]
    default_t = tangents[2] if len(tangents) > 2 else ZERO
    if is_zero(choices_t) and is_zero(default_t):
        return out, ZERO
    return out, np.select(condlist, _choice_tangents(choices_t, choicelist),
                          dense_or_zeros(default_t, default))


def _choice_tangents(t, choices):
    """The tangents of several choices (a list of arrays, or one stacked array) as arrays."""
    if type(choices) in (list, tuple):
        ts = [ZERO] * len(choices) if is_zero(t) else t
        return [dense_or_zeros(ti, c) for ti, c in zip(ts, choices)]
    return dense_or_zeros(t, choices)


@reverse(np.choose)
def _choose(needs, a, choices, out=None, mode="raise"):
    result = np.choose(a, choices, mode=mode)

    def choose_pullback(ct):
        n = len(choices)
        chosen = np.asarray(a)
        chosen = np.clip(chosen, 0, n - 1) if mode == "clip" else chosen % n
        choices_ct = [_taken(choices[k], chosen == k, ct) for k in range(n)]
        if not isinstance(choices, (list, tuple)):
            choices_ct = np.stack(choices_ct)  # choices was one array, stacked along axis 0
        return (ZERO, choices_ct) + (ZERO,) * (len(needs) - 2)

    return result, choose_pullback


@forward(np.choose)
def _choose_forward(tangents, a, choices, out=None, mode="raise"):
    result = np.choose(a, choices, mode=mode)
    if is_zero(tangents[1]):
        return result, ZERO
    return result, np.choose(a, _choice_tangents(tangents[1], choices), mode=mode)
