"""Reductions: sum, mean, prod, max/min, var/std, cumsum/cumprod, and their nan- variants.

Every rule takes ``axis`` as an int, a tuple, a negative number or None, and ``keepdims``.
The cotangent of a reduction is broadcast back over the reduced axes (``expand_reduced``).

Policies at the awkward points:
- prod and cumprod never divide by ``x``: the product of the *other* elements is built from
  exclusive running products (prod) or a log-depth linear scan (cumprod), so one zero, or
  several, along an axis give exact gradients and second derivatives.
- max/min split the cotangent evenly among the elements that attain the extremum (ties);
  when the extremum is NaN no element attains it and the gradient is 0.
- std at an input whose spread is zero (a constant slice) has gradient 0 there: std is convex
  and that point is its minimum, so 0 is a subgradient (``safe_divide``). Second derivatives
  there are 0 as well, never NaN.
- var/std with ``ddof >= n`` (no degrees of freedom) give a NaN gradient, as the value itself
  is NaN or infinite there.
"""
import numpy as np

from ..errors import DifferentiationError
from ..registry import name_of
from ._helpers import (ZERO, dtype_of, is_complex, linear, reverse, safe_divide, selected,
                       shape_of, unbroadcast)

# ---------------------------------------------------------------------------------------------
# Axes and the shape of a reduction
# ---------------------------------------------------------------------------------------------


def reduced_axes(axis, ndim):
    """``axis`` (None, an int or a tuple, possibly negative) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes)) if ndim else ()


def kept_shape(x_shape, axis):
    """The shape of a reduction with ``keepdims=True``: 1 on every reduced axis."""
    axes = reduced_axes(axis, len(x_shape))
    return tuple(1 if i in axes else n for i, n in enumerate(x_shape))


def expand_reduced(ct, x_shape, axis, keepdims=False):
    """Broadcast the cotangent of a reduction back over the reduced axes of ``x``.

    With or without ``keepdims`` the cotangent has the same elements in the same order as
    the kept shape, so one reshape restores the reduced axes as length-1 axes."""
    kept = kept_shape(x_shape, axis)
    if shape_of(ct) != kept:
        ct = np.reshape(ct, kept)
    return np.broadcast_to(ct, x_shape)


def reduced_count(x_shape, axis):
    """How many elements of ``x`` each output element of the reduction combines."""
    return int(np.prod([x_shape[a] for a in reduced_axes(axis, len(x_shape))], dtype=np.int64))


def first_only(g, needs):
    """The pullback result of a rule whose only differentiable argument is the first."""
    return (g,) + (ZERO,) * (len(needs) - 1)


def real_dtype(x):
    """The real dtype matching ``x``'s precision (float32 for complex64, ...)."""
    dtype = dtype_of(x)
    return np.finfo(dtype).dtype if dtype.kind in "fc" else np.dtype(np.float64)


def conj(a):
    return np.conjugate(a) if is_complex(a) else a


def reject(fn, **options):
    """Refuse keyword options a rule does not differentiate, rather than ignore them."""
    for name, value in options.items():
        if value is not None and value is not np._NoValue:
            raise DifferentiationError(
                f"{name_of(fn)}(..., {name}=...) on a traced value has no rule for "
                f"'{name}'. Leave it out (use the returned array), or write a wg.rrule."
            )


# ---------------------------------------------------------------------------------------------
# Work along one axis: move the reduced axes last and flatten them into one
# ---------------------------------------------------------------------------------------------


def to_last_axis(x, axes):
    """``(v, restore)``: ``x`` with ``axes`` moved last and merged into one axis, and the
    inverse of that for arrays shaped like ``v``."""
    shape = shape_of(x)
    rest = [i for i in range(len(shape)) if i not in axes]
    order = rest + list(axes)
    moved = x if order == sorted(order) else np.transpose(x, order)
    moved_shape = tuple(shape[i] for i in order)
    flat_shape = moved_shape[: len(rest)] + (reduced_count(shape, axes),)
    v = moved if flat_shape == moved_shape else np.reshape(moved, flat_shape)

    def restore(w):
        if flat_shape != moved_shape:
            w = np.reshape(w, moved_shape)
        if order != sorted(order):
            w = np.transpose(w, tuple(int(i) for i in np.argsort(order)))
        return w

    return v, restore


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


# ---------------------------------------------------------------------------------------------
# sum, mean and the nan- variants (linear)
# ---------------------------------------------------------------------------------------------


def _masked(g, where):
    return g if where is True or where is np._NoValue else np.where(where, g, 0)


def _sum_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                   where=True):
    g = expand_reduced(ct, shape_of(x), axis, keepdims)
    return unbroadcast(x, _masked(g, where))


def _count(x, axis, where):
    """Elements each output of mean averages over, kept as length-1 axes (where= aware)."""
    x_shape = shape_of(x)
    if where is True or where is np._NoValue:
        return reduced_count(x_shape, axis)
    mask = np.broadcast_to(where, x_shape)
    return np.sum(mask, axis=reduced_axes(axis, len(x_shape)), keepdims=True,
                  dtype=real_dtype(x))


def _mean_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    g = expand_reduced(ct, shape_of(x), axis, keepdims)
    count = _count(x, axis, where)
    g = g / count if type(count) is int else safe_divide(g, count)
    return unbroadcast(x, _masked(g, where))


def _nansum_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                      where=True):
    g = expand_reduced(ct, shape_of(x), axis, keepdims)
    return unbroadcast(x, np.where(np.isnan(x), 0, _masked(g, where)))


def _nanmean_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    present = ~np.isnan(x)
    if where is not True and where is not np._NoValue:
        present = present & where
    count = np.sum(present, axis=reduced_axes(axis, len(shape_of(x))), keepdims=True,
                   dtype=real_dtype(x))
    g = expand_reduced(ct, shape_of(x), axis, keepdims)
    return unbroadcast(x, np.where(present, safe_divide(g, count), 0))


def reverse_by_transpose(fn, transpose):
    """Like ``linear``, for a function whose tangent is *not* ``fn(tangent)``: nansum must
    ignore the tangent where ``x`` is NaN, which ``np.nansum(dx)`` would not. Declared
    reverse-only, so that forward mode does not reuse it as a linear function."""
    def rule(needs, x, *rest, **kwargs):
        def pullback(ct):
            return (transpose(ct, x, *rest, **kwargs),) + (ZERO,) * len(rest)

        return fn(x, *rest, **kwargs), pullback

    reverse(fn)(rule)


# np.sum(x, initial=c) is affine, not linear: a forward rule derived from ``linear`` must
# drop ``initial`` from the tangent's call.
linear(np.sum, _sum_transpose)
linear(np.mean, _mean_transpose)
reverse_by_transpose(np.nansum, _nansum_transpose)
reverse_by_transpose(np.nanmean, _nanmean_transpose)

# ---------------------------------------------------------------------------------------------
# prod
# ---------------------------------------------------------------------------------------------


def _prod_rule(fn, present):
    """The rule of prod-like ``fn``; ``present(x, where)`` marks the factors that count."""
    def rule(needs, x, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
             where=True):
        options = {} if initial is np._NoValue else {"initial": initial}
        if where is not True:
            options["where"] = where
        result = fn(x, axis=axis, dtype=dtype, keepdims=keepdims, **options)

        def prod_pullback(ct):
            mask = present(x, where)
            factors = x if mask is None else np.where(mask, x, 1)
            others = products_of_others(factors, reduced_axes(axis, len(shape_of(x))))
            if initial is not np._NoValue:
                others = others * initial
            g = expand_reduced(ct, shape_of(x), axis, keepdims) * conj(others)
            if mask is not None:
                g = np.where(mask, g, 0)
            return first_only(unbroadcast(x, g), needs)

        return result, prod_pullback

    return rule


def _where_mask(x, where):
    return None if where is True or where is np._NoValue else np.broadcast_to(where, shape_of(x))


def _not_nan_mask(x, where):
    mask = ~np.isnan(x)
    return mask if where is True or where is np._NoValue else mask & where


reverse(np.prod)(_prod_rule(np.prod, _where_mask))
reverse(np.nanprod)(_prod_rule(np.nanprod, _not_nan_mask))

# ---------------------------------------------------------------------------------------------
# max, min, ptp: ties split evenly
# ---------------------------------------------------------------------------------------------


def tie_share(x, extremum, axis, keepdims, where=True):
    """The share of each element of ``x`` in the extremum it was reduced to: 1/k for each of
    the k elements equal to it along the reduced axes, 0 for the others."""
    x_shape = shape_of(x)
    if not keepdims:
        extremum = np.reshape(extremum, kept_shape(x_shape, axis))
    chosen = x == extremum
    if where is not True and where is not np._NoValue:
        chosen = chosen & where
    count = np.sum(chosen, axis=reduced_axes(axis, len(x_shape)), keepdims=True,
                   dtype=real_dtype(x))
    return chosen / np.maximum(count, 1)


def _extremum_rule(fn):
    def rule(needs, x, axis=None, out=None, keepdims=False, initial=np._NoValue, where=True):
        options = {} if initial is np._NoValue else {"initial": initial}
        if where is not True:
            options["where"] = where
        result = fn(x, axis=axis, keepdims=keepdims, **options)

        def extremum_pullback(ct):
            share = tie_share(x, result, axis, keepdims, where)
            g = expand_reduced(ct, shape_of(x), axis, keepdims) * share
            return first_only(unbroadcast(x, selected(g)), needs)

        return result, extremum_pullback

    return rule


# NumPy 2 keeps np.max and np.amax (np.min and np.amin) as distinct functions: register each.
for _fn in (np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin):
    reverse(_fn)(_extremum_rule(_fn))


@reverse(np.ptp)
def _ptp(needs, x, axis=None, out=None, keepdims=False):
    result = np.ptp(x, axis=axis, keepdims=keepdims)

    def ptp_pullback(ct):
        high = tie_share(x, np.max(x, axis=axis, keepdims=True), axis, True)
        low = tie_share(x, np.min(x, axis=axis, keepdims=True), axis, True)
        g = expand_reduced(ct, shape_of(x), axis, keepdims) * (high - low)
        return first_only(unbroadcast(x, g), needs)

    return result, ptp_pullback


# ---------------------------------------------------------------------------------------------
# var and std
# ---------------------------------------------------------------------------------------------


def _moment_rule(fn, is_std):
    def rule(needs, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *,
             where=True, mean=np._NoValue, correction=np._NoValue):
        reject(fn, where=None if where is True else where)
        if correction is not np._NoValue:
            ddof = correction
        options = {} if mean is np._NoValue else {"mean": mean}
        result = fn(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **options)

        def moment_pullback(ct):
            x_shape = shape_of(x)
            dof = reduced_count(x_shape, axis) - ddof
            if is_complex(ct):
                ct = np.real(ct)  # the output is real: only the real part of ct pairs with it
            centered = x - np.mean(x, axis=axis, keepdims=True)
            if is_std:
                # d std = d var / (2 std); 0 where std = 0 (a subgradient at the minimum).
                ct = safe_divide(ct, result)
                scale = 1.0 / dof if dof > 0 else np.nan
            else:
                scale = 2.0 / dof if dof > 0 else np.nan
            g = expand_reduced(ct, x_shape, axis, keepdims) * (centered * scale)
            return first_only(unbroadcast(x, g), needs)

        return result, moment_pullback

    return rule


reverse(np.var)(_moment_rule(np.var, is_std=False))
reverse(np.std)(_moment_rule(np.std, is_std=True))

# ---------------------------------------------------------------------------------------------
# cumsum and cumprod
# ---------------------------------------------------------------------------------------------


def scan_axis(x, axis):
    """The axis a cumulative function scans; axis=None scans ``ravel(x)``, along axis 0."""
    return 0 if axis is None else int(axis) % len(shape_of(x))


def reverse_cumsum(ct, axis):
    return np.flip(np.cumsum(np.flip(ct, axis), axis=axis), axis)


def _cumsum_transpose(ct, x, axis=None, dtype=None, out=None):
    g = reverse_cumsum(ct, scan_axis(x, axis))
    return unbroadcast(x, np.reshape(g, shape_of(x)) if axis is None else g)


def cumprod_cotangent(x, y, ct):
    """Pullback of ``y = cumprod(x)`` along the last axis, without dividing by ``x``.

    ∂L/∂x_i = conj(∏_{j<i} x_j) · S_i with S_i = ct_i + conj(x_{i+1}) S_{i+1}: a linear
    recurrence run backwards, which ``linear_scan`` solves on the flipped arrays."""
    before = shift_right(y, 1, 1)
    coefficients = shift_right(np.flip(conj(x), -1), 1, 1)
    s = np.flip(linear_scan(coefficients, np.flip(ct, -1)), -1)
    return conj(before) * s


def _cumprod_pullback_along(x, y, ct, axis):
    if axis != len(shape_of(x)) - 1:
        moved = [np.moveaxis(a, axis, -1) for a in (x, y, ct)]
        return np.moveaxis(cumprod_cotangent(*moved), -1, axis)
    return cumprod_cotangent(x, y, ct)


@reverse(np.cumprod)
def _cumprod(needs, x, axis=None, dtype=None, out=None):
    result = np.cumprod(x, axis=axis, dtype=dtype)

    def cumprod_pullback(ct):
        if axis is None:
            g = np.reshape(cumprod_cotangent(np.ravel(x), result, ct), shape_of(x))
        else:
            g = _cumprod_pullback_along(x, result, ct, scan_axis(x, axis))
        return first_only(unbroadcast(x, g), needs)

    return result, cumprod_pullback


linear(np.cumsum, _cumsum_transpose)

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
        return first_only(unbroadcast(x, _cumprod_pullback_along(x, y, ct, along)), needs)

    return result, cumulative_prod_pullback


if hasattr(np, "cumulative_sum"):
    linear(np.cumulative_sum, _cumulative_sum_transpose)
    reverse(np.cumulative_prod)(_cumulative_prod)
