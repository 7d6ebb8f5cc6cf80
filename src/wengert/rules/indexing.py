"""Indexing: x[i] and the functions that select elements (take, take_along_axis, where,
select, choose).

Reading ``x[index]`` is linear in ``x``: its pullback places the cotangent at ``index`` of a
zero array. That array stays sparse (``Indexed``) until the tape adds it into a dense slot in
place, so a Python loop reading every ``x[i]`` costs O(1) per read, not O(len(x)). Under
nested differentiation the cotangent is itself traced, and the placement is the primitive
``scatter_add``, whose own pullback is indexing again.
"""
import operator

import numpy as np

from ..registry import primitive
from ..tangents import Indexed
from ._helpers import ZERO, Tracer, dtype_of, reverse, selected, shape_of, unbroadcast


def place_at(x, index, ct):
    """The cotangent of ``x`` given the cotangent ``ct`` of ``x[index]``: ``ct`` placed at
    ``index`` of zeros shaped like ``x`` (repeated indices add up)."""
    x_dtype = dtype_of(x)
    if x_dtype.kind != "c" and dtype_of(ct).kind == "c":
        ct = np.real(ct)  # a real input's cotangent is real
    if isinstance(ct, Tracer):
        return scatter_add(np.zeros_like(x), index, ct)
    return Indexed(index, ct, shape_of(x), x_dtype)


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
    def getitem_pullback(ct):
        return (place_at(x, index, ct), ZERO)

    return x[index], getitem_pullback


# ---------------------------------------------------------------------------------------------
# scatter_add: the dense placement, differentiable to any order
# ---------------------------------------------------------------------------------------------

@primitive
def scatter_add(base, index, values):
    """``base`` with ``values`` added at ``index`` (repeated indices accumulate); functional."""
    result = np.array(base, dtype=np.result_type(dtype_of(base), dtype_of(values)))
    np.add.at(result, index, values)
    return result


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


# ---------------------------------------------------------------------------------------------
# take, take_along_axis: indexing in other words
# ---------------------------------------------------------------------------------------------

def _in_range(indices, n, mode):
    """Indices as np.take's ``mode`` reads them, made non-negative."""
    indices = np.asarray(indices)
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
    # The other axes are read in place: an arange along each, broadcast against indices.
    return tuple(
        _in_range(indices, n, "raise") if d == axis
        else np.reshape(np.arange(n), (1,) * d + (n,) + (1,) * (ndim - d - 1))
        for d, n in enumerate(shape)
    )


reverse(np.take)(_selection_rule(np.take, _take_index))
reverse(np.take_along_axis)(_selection_rule(np.take_along_axis, _take_along_axis_index))


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
