"""Reductions: sum, mean, prod, max/min, var/std, cumsum/cumprod."""
import numpy as np

from ._helpers import reverse, shape_of


def expand_reduced(ct, x_shape, axis, keepdims):
    """Broadcast the cotangent of a reduction back over the reduced axes of ``x``."""
    if not keepdims and axis is not None:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        ndim = len(x_shape)
        ct = np.expand_dims(ct, tuple(a % ndim for a in axes))
    elif not keepdims and axis is None:
        ct = np.reshape(ct, (1,) * len(x_shape))
    return np.broadcast_to(ct, x_shape)


@reverse(np.sum)
def _sum(needs, x, axis=None, dtype=None, keepdims=False, **kwargs):
    out = np.sum(x, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs)

    def sum_pullback(ct):
        return (expand_reduced(ct, shape_of(x), axis, keepdims),) + (None,) * (len(needs) - 1)

    return out, sum_pullback


@reverse(np.mean)
def _mean(needs, x, axis=None, dtype=None, keepdims=False, **kwargs):
    out = np.mean(x, axis=axis, dtype=dtype, keepdims=keepdims, **kwargs)
    count = np.size(x) // max(np.size(out), 1)

    def mean_pullback(ct):
        return (expand_reduced(ct / count, shape_of(x), axis, keepdims),) + (None,) * (
            len(needs) - 1)

    return out, mean_pullback
