"""Cumulative functions: cumsum, cumprod and the array-API cumulative_sum/cumulative_prod.

cumsum is linear (its transpose is a reversed cumsum). cumprod never divides by ``x``: both
of its derivatives are linear recurrences solved by a log-depth scan of products and sums
(``_scan``), so zeros in ``x`` give exact derivatives, and second derivatives nest. axis=None
scans ``ravel(x)``.
"""
import numpy as np

from ._helpers import forward, linear, reverse, shape_of, to_dense, unbroadcast
from ._scan import along_axis, cumprod_cotangent, cumprod_tangent
from .reductions import first_only


def scan_axis(x, axis):
    """The axis a cumulative function scans; axis=None scans ``ravel(x)``, along axis 0."""
    return 0 if axis is None else int(axis) % len(shape_of(x))


def reverse_cumsum(ct, axis):
    return np.flip(np.cumsum(np.flip(ct, axis), axis=axis), axis)


def _cumsum_transpose(ct, x, axis=None, dtype=None, out=None):
    g = reverse_cumsum(ct, scan_axis(x, axis))
    return unbroadcast(x, np.reshape(g, shape_of(x)) if axis is None else g)


linear(np.cumsum, _cumsum_transpose)


@reverse(np.cumprod)
def _cumprod(needs, x, axis=None, dtype=None, out=None):
    result = np.cumprod(x, axis=axis, dtype=dtype)

    def cumprod_pullback(ct):
        if axis is None:
            g = np.reshape(cumprod_cotangent(np.ravel(x), result, ct), shape_of(x))
        else:
            g = along_axis(cumprod_cotangent, scan_axis(x, axis), x, result, ct)
        return first_only(unbroadcast(x, g), needs)

    return result, cumprod_pullback


@forward(np.cumprod)
def _cumprod_forward(tangents, x, axis=None, dtype=None, out=None):
    result = np.cumprod(x, axis=axis, dtype=dtype)
    t = to_dense(tangents[0])
    if axis is None:
        return result, cumprod_tangent(np.ravel(x), result, np.ravel(t))
    return result, along_axis(cumprod_tangent, scan_axis(x, axis), x, result, t)


# NumPy >= 2.1 array-API spellings; include_initial prepends the empty sum (0) or product (1).


def _drop_initial(ct, axis, include_initial):
    if not include_initial:
        return ct
    index = [slice(None)] * len(shape_of(ct))
    index[axis] = slice(1, None)
    return ct[tuple(index)]


def _cumulative_sum_transpose(ct, x, *, axis=None, dtype=None, out=None, include_initial=False):
    along = scan_axis(x, axis)
    return unbroadcast(x, reverse_cumsum(_drop_initial(ct, along, include_initial), along))


def _cumulative_prod(needs, x, *, axis=None, dtype=None, out=None, include_initial=False):
    result = np.cumulative_prod(x, axis=axis, dtype=dtype, include_initial=include_initial)

    def cumulative_prod_pullback(ct):
        along = scan_axis(x, axis)
        y = _drop_initial(result, along, include_initial)
        ct = _drop_initial(ct, along, include_initial)
        return first_only(unbroadcast(x, along_axis(cumprod_cotangent, along, x, y, ct)), needs)

    return result, cumulative_prod_pullback


def _cumulative_prod_forward(tangents, x, *, axis=None, dtype=None, out=None,
                             include_initial=False):
    result = np.cumulative_prod(x, axis=axis, dtype=dtype, include_initial=include_initial)
    along = scan_axis(x, axis)
    y = _drop_initial(result, along, include_initial)
    dy = along_axis(cumprod_tangent, along, x, y, to_dense(tangents[0]))
    if include_initial:   # the prepended 1 is a constant
        head = list(shape_of(dy))
        head[along] = 1
        dy = np.concatenate([np.zeros_like(dy, shape=tuple(head)), dy], axis=along)
    return result, dy


if hasattr(np, "cumulative_sum"):
    linear(np.cumulative_sum, _cumulative_sum_transpose)
    reverse(np.cumulative_prod)(_cumulative_prod)
    forward(np.cumulative_prod)(_cumulative_prod_forward)
