"""Writes: ``index_update(x, index, v)``, x with x[index] replaced by v (core/mutation.py
records every ``x[index] = v``, ``x += v`` and ``out=x`` as one).

Reverse: the output's cotangent goes to ``x`` where nothing was written, and to ``v`` where
it was: with repeated integer indices NumPy keeps the last write, so only that occurrence of
``v`` reaches the output. Forward: the tangent of ``x`` with the tangent of ``v`` written at
``index``. Both are written with ``index_update`` and indexing, so they nest to any order.
"""
import numpy as np

from ..core.mutation import index_update
from ._helpers import ZERO, dtype_of, forward, is_zero, reverse, shape_of, to_dense, unbroadcast
from ._helpers import zeros_like_value


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
    if _may_repeat(index):
        survived = last_writes(shape, index)
        if not survived.all():
            read = np.where(survived, read, 0)
    extra = len(shape_of(v)) - len(shape_of(read))
    if extra > 0:   # NumPy lets v carry leading axes of length 1 that the index has not
        read = np.reshape(read, (1,) * extra + shape_of(read))
    return unbroadcast(v, read)


@reverse(index_update)
def _index_update(needs, x, index, v):
    out = index_update(x, index, v)
    shape = shape_of(x)   # all the pullback reads of x: the tape need not keep each version

    def index_update_pullback(ct):
        x_ct = index_update(ct, index, 0) if needs[0] else ZERO
        v_ct = _value_cotangent(ct, shape, index, v) if needs[2] else ZERO
        return (x_ct, ZERO, v_ct)

    return out, index_update_pullback


@forward(index_update)
def _index_update_forward(tangents, x, index, v):
    out = index_update(x, index, v)
    x_t, _, v_t = tangents
    if is_zero(v_t):
        return out, ZERO if is_zero(x_t) else index_update(to_dense(x_t), index, 0)
    base = zeros_like_value(out) if is_zero(x_t) else to_dense(x_t)
    if dtype_of(v_t).kind == "c" and dtype_of(base).kind != "c":
        v_t = np.real(v_t)   # written into a real array, v keeps its real part
    return out, index_update(base, index, to_dense(v_t))
