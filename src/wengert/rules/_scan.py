"""Scans along one axis built from products and sums only, never dividing by the data.

prod needs, for each element, the product of the *other* elements; cumprod needs its
derivatives in both modes. Dividing the product by ``x`` would fail at zeros, so these are
built from exclusive running products and a log-depth linear scan instead: one zero, or
several, along an axis give exact derivatives, and every helper is itself differentiable
(second derivatives nest through it).
"""
import numpy as np

from ._helpers import conj, shape_of


def to_last_axis(x, axes):
    """``(v, restore)``: ``x`` with ``axes`` (sorted, non-negative) moved last and merged
    into one axis, and the inverse of that for arrays shaped like ``v``."""
    shape = shape_of(x)
    rest = [i for i in range(len(shape)) if i not in axes]
    order = rest + list(axes)
    moved = x if order == sorted(order) else np.transpose(x, order)
    moved_shape = tuple(shape[i] for i in order)
    count = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    flat_shape = moved_shape[: len(rest)] + (count,)
    v = moved if flat_shape == moved_shape else np.reshape(moved, flat_shape)

    def restore(w):
        if flat_shape != moved_shape:
            w = np.reshape(w, moved_shape)
        if order != sorted(order):
            w = np.transpose(w, tuple(int(i) for i in np.argsort(order)))
        return w

    return v, restore


def along_axis(scan, axis, *arrays):
    """``scan`` (which works along the last axis) applied along ``axis`` of ``arrays``."""
    last = len(shape_of(arrays[0])) - 1
    if axis == last:
        return scan(*arrays)
    return np.moveaxis(scan(*[np.moveaxis(a, axis, -1) for a in arrays]), -1, axis)


def shift_right(v, d, fill):
    """``v`` moved ``d`` places along its last axis, the first ``d`` places set to ``fill``
    (0 or 1)."""
    n = shape_of(v)[-1]
    head_shape = shape_of(v)[:-1] + (min(d, n),)
    head = np.zeros_like(v, shape=head_shape) if fill == 0 else np.ones_like(v, shape=head_shape)
    return np.concatenate([head, v[..., : n - d]], axis=-1) if d < n else head


def exclusive_cumprod(v):
    """``∏_{j<i} v_j`` along the last axis (1 for the first element); no division."""
    return np.cumprod(shift_right(v, 1, 1), axis=-1)


def linear_scan(a, b):
    """``s_m = b_m + a_m s_{m-1}`` along the last axis, with ``s_{-1} = 0``.

    Hillis–Steele doubling: ⌈log2 n⌉ vector steps built from products and sums only, so
    zeros in ``a`` are exact and the scan is itself differentiable (it nests)."""
    n = shape_of(b)[-1]
    d = 1
    while d < n:
        b = b + a * shift_right(b, d, 0)
        if 2 * d < n:
            a = a * shift_right(a, d, 1)
        d *= 2
    return b


def products_of_others(x, axes):
    """For each element, the product of the other elements along ``axes``, without dividing:
    (product of those before it) · (product of those after it)."""
    v, restore = to_last_axis(x, axes)
    before = exclusive_cumprod(v)
    after = np.flip(exclusive_cumprod(np.flip(v, -1)), -1)
    return restore(before * after)


def cumprod_cotangent(x, y, ct):
    """Pullback of ``y = cumprod(x)`` along the last axis.

    ∂L/∂x_i = conj(∏_{j<i} x_j) · S_i with S_i = ct_i + conj(x_{i+1}) S_{i+1}: a linear
    recurrence run backwards, which ``linear_scan`` solves on the flipped arrays."""
    before = shift_right(y, 1, 1)
    coefficients = shift_right(np.flip(conj(x), -1), 1, 1)
    s = np.flip(linear_scan(coefficients, np.flip(ct, -1)), -1)
    return conj(before) * s


def cumprod_tangent(x, y, t):
    """Pushforward of ``y = cumprod(x)`` along the last axis.

    dy_m = x_m dy_{m-1} + y_{m-1} t_m (the product rule on y_m = y_{m-1} x_m): the same
    linear recurrence, run forwards."""
    return linear_scan(x, shift_right(y, 1, 1) * t)
