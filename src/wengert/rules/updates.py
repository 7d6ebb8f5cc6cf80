"""Writes: ``index_update(x, index, v)``, x with x[index] replaced by v, and
``index_write(x, index, v)``, the same written into x's own array (core/mutation.py records
every ``x[index] = v``, ``x += v`` and ``out=x`` as one of them).

Reverse: the output's cotangent goes to ``x`` where nothing was written, and to ``v`` where
it was: with repeated integer indices NumPy keeps the last write, so only that occurrence of
``v`` reaches the output. The pullback zeroes the written part of the cotangent in place
when the walk owns it, and hands it on: a chain of n writes then shares one cotangent array,
O(size of each write) per step. Forward: the tangent of ``x`` with the tangent of ``v``
written at ``index`` (in place for ``index_write``, whose tangent nothing else refers to).
Anything traced by an outer level is written with ``index_update`` and indexing, so both
nest to any order.
"""
import numpy as np

from ..arraytypes import IN_PLACE
from ..core.mutation import index_update, index_write, write_in_place
from ..core.pullbacks import OwningPullback
from ._helpers import (ZERO, Tracer, dtype_of, forward, is_zero, reverse, shape_of, to_dense,
                       unbroadcast, zeros_like_value)


def _may_repeat(index):
    """Whether ``index`` may name one element twice: integer arrays (or lists) may; basic
    indices and boolean masks never do."""
    items = index if type(index) is tuple else (index,)
    for item in items:
        if isinstance(item, (list, np.ndarray)) and np.asarray(item).dtype != bool:
            return True
    return False


def last_writes(shape, index):
    """Which elements of ``x[index]`` (``x`` of this shape) survive NumPy's assignment
    ``x[index] = ...``, as a boolean array shaped like ``x[index]``: the very assignment,
    made with positions, tells."""
    read_shape = np.shape(np.empty(shape, dtype=bool)[index])
    positions = np.arange(int(np.prod(read_shape))).reshape(read_shape)
    written = np.full(shape, -1)
    written[index] = positions
    return written[index] == positions


def _value_cotangent(ct, shape, index, v):
    """The cotangent of ``v`` written at ``index``: the output's cotangent read there, zero
    where a later repeat of the index overwrote it, summed back to v's shape."""
    read = ct[index]
    if type(index) is not int and _may_repeat(index):
        survived = last_writes(shape, index)
        if not survived.all():
            read = np.where(survived, read, 0)
    extra = len(shape_of(v)) - len(shape_of(read))
    if extra > 0:   # NumPy lets v carry leading axes of length 1 that the index has not
        read = np.reshape(read, (1,) * extra + shape_of(read))
    return unbroadcast(v, read)


class _WritePullback(OwningPullback):
    """The pullback of a write ``x[index] = v`` (see OwningPullback)."""

    __slots__ = ("needs", "shape", "index", "v")

    def __init__(self, needs, shape, index, v):
        self.needs = needs
        self.shape = shape   # all the pullback reads of x: the tape need not keep it
        self.index = index
        self.v = v

    def take(self, ct, ours):
        needs, index = self.needs, self.index
        v_ct = _value_cotangent(ct, self.shape, index, self.v) if needs[2] else ZERO
        if not needs[0]:
            return (ZERO, ZERO, v_ct), False
        if isinstance(ct, Tracer) or type(ct) not in IN_PLACE:
            return (index_update(ct, index, 0), ZERO, v_ct), False
        if type(v_ct) in IN_PLACE and np.may_share_memory(v_ct, ct):
            v_ct = v_ct.copy()   # read through a view of ct, which is written next
        if not ours:
            ct = ct.copy()
        ct[index] = 0
        return (ct, ZERO, v_ct), True


@reverse(index_update)
def _index_update(needs, x, index, v):
    return index_update(x, index, v), _WritePullback(needs, shape_of(x), index, v)


@reverse(index_write)
def _index_write(needs, x, index, v):
    # x is the written tracer's own NumPy array (see held_alone)
    return write_in_place(x, index, v), _WritePullback(needs, x.shape, index, v)


@forward(index_update)
def _index_update_forward(tangents, x, index, v):
    out = index_update(x, index, v)
    return out, _written_tangent(tangents, index, out, False)


@forward(index_write)
def _index_write_forward(tangents, x, index, v):
    out = write_in_place(x, index, v)
    return out, _written_tangent(tangents, index, out, True)


def _written_tangent(tangents, index, out, in_place):
    """The tangent of the written array ``out``: x's with v's written at ``index``.
    ``in_place``: x's tangent, where it is a NumPy array, is the written tracer's alone (see
    ``held_alone``), so it is written into; where it is not, a fresh array is made that the
    next write may write into."""
    x_t, _, v_t = tangents
    if is_zero(v_t) and is_zero(x_t):
        return ZERO
    if isinstance(x_t, Tracer) or isinstance(v_t, Tracer):
        in_place = False   # traced by an outer level: so must the write be
    fresh = is_zero(x_t)
    if fresh:
        base = zeros_like_value(out)
    elif not in_place:
        base = to_dense(x_t)
    elif type(x_t) is np.ndarray:
        base = x_t
    else:
        base = np.array(to_dense(x_t), subok=False)   # a plain array of its own from now on
    if is_zero(v_t):
        v_t = 0
    else:
        v_t = to_dense(v_t)
        if dtype_of(v_t).kind == "c" and dtype_of(base).kind != "c":
            v_t = np.real(v_t)   # written into a real array, v keeps its real part
    if in_place or fresh and type(base) in IN_PLACE and not isinstance(v_t, Tracer):
        base[index] = v_t        # an array of the write's own
        return base
    return index_update(base, index, v_t)
