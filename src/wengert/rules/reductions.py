"""Reductions: sum, mean, prod, max/min, ptp, var/std, and their nan- variants.

Every rule takes ``axis`` as an int, a tuple, a negative number or None, and ``keepdims``.
The cotangent of a reduction is broadcast back over the reduced axes (``expand_reduced``);
the tangent of a nonlinear one is ``Σ_j w_j · dx_j`` over them with the same weights
``w = ∂out/∂x`` (``push_reduction``), so both modes share one formula per function. A
one-element sparse tangent (a OneHot) stays sparse: its reduction is one value, ``w`` at its
position times its value, placed at the reduced position.

Policies at the awkward points:
- prod never divides by ``x``: the product of the *other* elements is built from exclusive
  running products (``_scan.products_of_others``), so one zero, or several, along an
  axis give exact derivatives of every order.
- max/min split the cotangent evenly among the elements that attain the extremum (ties), and
  their tangent is the mean of the tied elements' tangents; when the extremum is NaN no
  element attains it and the derivative is 0.
- std at an input whose spread is zero (a constant slice) has gradient 0 there: std is convex
  and that point is its minimum, so 0 is a subgradient (``safe_divide``). Second derivatives
  there are 0 as well, never NaN.
- var/std with ``ddof >= n`` (no degrees of freedom) give a NaN derivative, as the value
  itself is NaN or infinite there.
"""
import numpy as np

from ..errors import DifferentiationError
from ..errors import name_of
from ._helpers import (ZERO, Indexed, dtype_of, forward, is_complex, is_zero, linear, reverse,
                       safe_divide, scale, selected, shape_of, to_dense, unbroadcast)
from ._scan import conj, products_of_others

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


def reduced_position(position, axis, keepdims):
    """Where the element at ``position`` (one int per axis of ``x``) lands in the
    reduction: reduced axes dropped, or at 0 with keepdims."""
    axes = reduced_axes(axis, len(position))
    if keepdims:
        return tuple(0 if i in axes else k for i, k in enumerate(position))
    return tuple(k for i, k in enumerate(position) if i not in axes)


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


def reject(fn, **options):
    """Refuse keyword options a rule does not differentiate, rather than ignore them."""
    for name, value in options.items():
        if value is not None and value is not np._NoValue:
            raise DifferentiationError(
                f"{name_of(fn)}(..., {name}=...) on a traced value has no rule for "
                f"'{name}'. Leave it out (use the returned array), or write a wg.rrule."
            )


def unmasked(where):
    return where is True or where is np._NoValue


def where_mask(x, where):
    """``where=`` broadcast to ``x``'s shape, or None when every element counts."""
    return None if unmasked(where) else np.broadcast_to(where, shape_of(x))


def reduce_options(initial, where):
    """The ``initial=``/``where=`` keywords to pass on, leaving out those not given."""
    options = {} if initial is np._NoValue else {"initial": initial}
    if where is not True:
        options["where"] = where
    return options


# ---------------------------------------------------------------------------------------------
# Tangents of reductions: Σ_j w_j · dx_j over the reduced axes
# ---------------------------------------------------------------------------------------------


def int_position(t):
    """The position of a one-element sparse tangent (a OneHot, or an ``Indexed`` holding one
    value at a tuple of ints) as non-negative ints, one per axis; None for other indices."""
    index = t.index
    if type(index) is not tuple or len(index) != len(t.shape) or shape_of(t.values) != ():
        return None
    if not all(type(i) is int or isinstance(i, np.integer) for i in index):
        return None
    return tuple(int(i) % n for i, n in zip(index, t.shape))


def pair(w, t, real=False, selection=False):
    """``w · t``; ``Re(conj(w) · t)`` for a ``real`` output of a complex input, whose weight
    is a gradient direction; a ``selection``'s zero weights give exactly 0 (even for an
    infinite tangent: the element took no part)."""
    if selection:
        t = np.where(w != 0, t, 0)
    return np.real(np.conjugate(w) * t) if real and is_complex(w) else w * t


def sparse_reduction(t, weight_at, axis, keepdims, dtype, real=False, selection=False):
    """The tangent of a reduction for a one-element sparse tangent: ``weight_at(position)``
    times its value, at the reduced position (a plain scalar for a 0-d output); None where
    ``t`` holds more than one element."""
    position = int_position(t)
    if position is None:
        return None
    value = pair(weight_at(position), t.values, real, selection)
    shape = kept_shape(t.shape, axis) if keepdims else reduced_position(t.shape, axis, False)
    if not shape:
        return value
    return Indexed(reduced_position(position, axis, keepdims), value, shape, dtype)


def push_reduction(t, weights, axis, keepdims, out, real=False, selection=False):
    """The tangent ``Σ_j pair(w_j, t_j)`` of a reduction with weights ``w = ∂out/∂x``."""
    if is_zero(t):
        return ZERO
    if isinstance(t, Indexed):
        dy = sparse_reduction(t, lambda i: weights[i], axis, keepdims, dtype_of(out), real,
                              selection)
        if dy is not None:
            return dy
        t = to_dense(t)
    return np.sum(pair(weights, t, real, selection), axis=axis, keepdims=keepdims)


def selection_shape(t):
    """The shape of the part of the array that a sparse tangent's index selects."""
    return np.broadcast_to(np.empty((), bool), t.shape)[t.index].shape


# ---------------------------------------------------------------------------------------------
# sum, mean and the nan- variants (linear)
# ---------------------------------------------------------------------------------------------


def _masked(g, where):
    return g if unmasked(where) else np.where(where, g, 0)


def _sum_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                   where=True):
    g = expand_reduced(ct, shape_of(x), axis, keepdims)
    return unbroadcast(x, _masked(g, where))


def _sum_tangent(t, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                 where=True):
    # np.sum(x, initial=c) is affine in x, not linear: its tangent leaves ``initial`` out.
    return np.sum(t, axis=axis, dtype=dtype, keepdims=keepdims, where=where)


def _sum_sparse(t, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                where=True):
    mask = where_mask(x, where)
    weight_at = (lambda i: 1) if mask is None else (lambda i: mask[i])
    dy = sparse_reduction(t, weight_at, axis, keepdims, t.dtype if dtype is None else dtype)
    if dy is None and axis is None and not keepdims and mask is None:
        # Any index: the total of the values over the positions they sit at.
        dy = np.sum(np.broadcast_to(t.values, selection_shape(t)), dtype=dtype)
    return dy


def _count(x, axis, where):
    """Elements each output of mean averages over, kept as length-1 axes (where= aware)."""
    x_shape = shape_of(x)
    if unmasked(where):
        return reduced_count(x_shape, axis)
    mask = np.broadcast_to(where, x_shape)
    return np.sum(mask, axis=reduced_axes(axis, len(x_shape)), keepdims=True,
                  dtype=real_dtype(x))


def _mean_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    g = expand_reduced(ct, shape_of(x), axis, keepdims)
    count = _count(x, axis, where)
    g = g / count if type(count) is int else safe_divide(g, count)
    return unbroadcast(x, _masked(g, where))


def _mean_sparse(t, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    if not unmasked(where):
        return None
    total = _sum_sparse(t, x, axis, dtype, keepdims=keepdims)
    return None if total is None else scale(total, 1.0 / reduced_count(shape_of(x), axis))


def _present(x, where):
    """The elements nansum/nanmean count: not NaN, and selected by ``where``."""
    present = ~np.isnan(x)
    return present if unmasked(where) else present & where


def _nansum_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                      where=True):
    g = expand_reduced(ct, shape_of(x), axis, keepdims)
    return unbroadcast(x, np.where(np.isnan(x), 0, _masked(g, where)))


def _nansum_tangent(t, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                    where=True):
    # A NaN element is left out of the sum, and so is its tangent.
    return np.sum(np.where(np.isnan(x), 0, t), axis=axis, dtype=dtype, keepdims=keepdims,
                  where=where)


def _nansum_sparse(t, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                   where=True):
    mask = where_mask(x, where)
    return sparse_reduction(
        t, lambda i: ~np.isnan(x[i]) if mask is None else ~np.isnan(x[i]) & mask[i],
        axis, keepdims, t.dtype if dtype is None else dtype)


def _nanmean_count(x, axis, where, keepdims):
    return np.sum(_present(x, where), axis=reduced_axes(axis, len(shape_of(x))),
                  keepdims=keepdims, dtype=real_dtype(x))


def _nanmean_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    present = _present(x, where)
    count = _nanmean_count(x, axis, where, keepdims=True)
    g = expand_reduced(ct, shape_of(x), axis, keepdims)
    return unbroadcast(x, np.where(present, safe_divide(g, count), 0))


def _nanmean_tangent(t, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    total = np.sum(np.where(_present(x, where), t, 0), axis=axis, dtype=dtype,
                   keepdims=keepdims)
    return safe_divide(total, _nanmean_count(x, axis, where, keepdims))


def _nanmean_sparse(t, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    present = _present(x, where)
    count = _nanmean_count(x, axis, where, keepdims=True)
    return sparse_reduction(
        t, lambda i: safe_divide(present[i], count[reduced_position(i, axis, True)]),
        axis, keepdims, t.dtype)


linear(np.sum, _sum_transpose, tangent=_sum_tangent, sparse=_sum_sparse)
linear(np.mean, _mean_transpose, sparse=_mean_sparse)
linear(np.nansum, _nansum_transpose, tangent=_nansum_tangent, sparse=_nansum_sparse)
linear(np.nanmean, _nanmean_transpose, tangent=_nanmean_tangent, sparse=_nanmean_sparse)

# ---------------------------------------------------------------------------------------------
# prod
# ---------------------------------------------------------------------------------------------


def prod_weights(x, axis, initial, mask):
    """∂prod/∂x: for each counted factor the product of the other counted factors (times
    ``initial``), 0 for the factors ``mask`` leaves out."""
    factors = x if mask is None else np.where(mask, x, 1)
    others = products_of_others(factors, reduced_axes(axis, len(shape_of(x))))
    if initial is not np._NoValue:
        others = others * initial
    return others if mask is None else np.where(mask, others, 0)


def _prod_rule(fn, present):
    """The rule of prod-like ``fn``; ``present(x, where)`` marks the factors that count."""
    def rule(needs, x, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
             where=True):
        result = fn(x, axis=axis, dtype=dtype, keepdims=keepdims, **reduce_options(initial, where))

        def prod_pullback(ct):
            mask = present(x, where)
            weights = prod_weights(x, axis, initial, mask)
            g = expand_reduced(ct, shape_of(x), axis, keepdims) * conj(weights)
            if mask is not None:
                g = np.where(mask, g, 0)
            return first_only(unbroadcast(x, g), needs)

        return result, prod_pullback

    return rule


def _prod_frule(fn, present):
    def frule(tangents, x, axis=None, dtype=None, out=None, keepdims=False,
              initial=np._NoValue, where=True):
        result = fn(x, axis=axis, dtype=dtype, keepdims=keepdims, **reduce_options(initial, where))
        mask = present(x, where)
        weights = prod_weights(x, axis, initial, mask)
        return result, push_reduction(tangents[0], weights, axis, keepdims, result,
                                      selection=mask is not None)

    return frule


reverse(np.prod)(_prod_rule(np.prod, where_mask))
forward(np.prod)(_prod_frule(np.prod, where_mask))
reverse(np.nanprod)(_prod_rule(np.nanprod, _present))
forward(np.nanprod)(_prod_frule(np.nanprod, _present))

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
    if not unmasked(where):
        chosen = chosen & where
    count = np.sum(chosen, axis=reduced_axes(axis, len(x_shape)), keepdims=True,
                   dtype=real_dtype(x))
    return chosen / np.maximum(count, 1)


def _extremum_rule(fn):
    def rule(needs, x, axis=None, out=None, keepdims=False, initial=np._NoValue, where=True):
        result = fn(x, axis=axis, keepdims=keepdims, **reduce_options(initial, where))

        def extremum_pullback(ct):
            share = tie_share(x, result, axis, keepdims, where)
            g = expand_reduced(ct, shape_of(x), axis, keepdims) * share
            return first_only(unbroadcast(x, selected(g)), needs)

        return result, extremum_pullback

    return rule


def _extremum_frule(fn):
    def frule(tangents, x, axis=None, out=None, keepdims=False, initial=np._NoValue,
              where=True):
        result = fn(x, axis=axis, keepdims=keepdims, **reduce_options(initial, where))
        share = tie_share(x, result, axis, keepdims, where)
        return result, push_reduction(tangents[0], share, axis, keepdims, result,
                                      selection=True)

    return frule


# NumPy 2 keeps np.max and np.amax (np.min and np.amin) as distinct functions: register each.
for _fn in (np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin):
    reverse(_fn)(_extremum_rule(_fn))
    forward(_fn)(_extremum_frule(_fn))


def ptp_weights(x, axis):
    """∂ptp/∂x: the share of each element in the maximum minus its share in the minimum."""
    high = tie_share(x, np.max(x, axis=axis, keepdims=True), axis, True)
    low = tie_share(x, np.min(x, axis=axis, keepdims=True), axis, True)
    return high - low


@reverse(np.ptp)
def _ptp(needs, x, axis=None, out=None, keepdims=False):
    result = np.ptp(x, axis=axis, keepdims=keepdims)

    def ptp_pullback(ct):
        g = expand_reduced(ct, shape_of(x), axis, keepdims) * ptp_weights(x, axis)
        return first_only(unbroadcast(x, g), needs)

    return result, ptp_pullback


@forward(np.ptp)
def _ptp_forward(tangents, x, axis=None, out=None, keepdims=False):
    result = np.ptp(x, axis=axis, keepdims=keepdims)
    return result, push_reduction(tangents[0], ptp_weights(x, axis), axis, keepdims, result,
                                  selection=True)


# ---------------------------------------------------------------------------------------------
# var and std
# ---------------------------------------------------------------------------------------------


def _moment(fn, x, axis, dtype, ddof, keepdims, where, mean, correction):
    """``(fn(x, ...), ddof)`` for var/std, with the options they differentiate."""
    reject(fn, where=None if where is True else where)
    if correction is not np._NoValue:
        ddof = correction
    options = {} if mean is np._NoValue else {"mean": mean}
    return fn(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, **options), ddof


def moment_weights(x, result, axis, ddof, keepdims, is_std):
    """The gradient direction of var (``2 (x - mean) / dof``) or of std (that over
    ``2 std``, 0 where std = 0: a subgradient at std's minimum)."""
    x_shape = shape_of(x)
    dof = reduced_count(x_shape, axis) - ddof
    centered = x - np.mean(x, axis=axis, keepdims=True)
    if not is_std:
        return centered * (2.0 / dof if dof > 0 else np.nan)
    std = result if keepdims else np.reshape(result, kept_shape(x_shape, axis))
    return safe_divide(centered * (1.0 / dof if dof > 0 else np.nan), std)


def _moment_rule(fn, is_std):
    def rule(needs, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *,
             where=True, mean=np._NoValue, correction=np._NoValue):
        result, ddof = _moment(fn, x, axis, dtype, ddof, keepdims, where, mean, correction)

        def moment_pullback(ct):
            if is_complex(ct):
                ct = np.real(ct)  # the output is real: only the real part of ct pairs with it
            weights = moment_weights(x, result, axis, ddof, keepdims, is_std)
            g = expand_reduced(ct, shape_of(x), axis, keepdims) * weights
            return first_only(unbroadcast(x, g), needs)

        return result, moment_pullback

    return rule


def _moment_frule(fn, is_std):
    def frule(tangents, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *,
              where=True, mean=np._NoValue, correction=np._NoValue):
        result, ddof = _moment(fn, x, axis, dtype, ddof, keepdims, where, mean, correction)
        weights = moment_weights(x, result, axis, ddof, keepdims, is_std)
        return result, push_reduction(tangents[0], weights, axis, keepdims, result, real=True)

    return frule


reverse(np.var)(_moment_rule(np.var, is_std=False))
forward(np.var)(_moment_frule(np.var, is_std=False))
reverse(np.std)(_moment_rule(np.std, is_std=True))
forward(np.std)(_moment_frule(np.std, is_std=True))
