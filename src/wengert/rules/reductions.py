"""Reductions: the axes and tangents every reduction shares, and the nonlinear reductions —
prod, max/min, ptp, var/std and their nan- variants — declared by their weights.

Every rule takes ``axis`` as an int, a tuple, a negative number or None, and ``keepdims``.
A nonlinear reduction is declared once by its weights ``w = ∂out/∂x`` (``reduction``): the
cotangent is ``ct · conj(w)`` broadcast back over the reduced axes (``expand_reduced``) and
the tangent is ``Σ_j w_j · dx_j`` over them (``push_reduction``), so both modes share one
formula per function. A one-element sparse tangent (a OneHot) stays sparse: its reduction is
one value, ``w`` at its position times its value, placed at the reduced position. The
linear reductions (sum, mean and their nan- variants) are in ``sums``.

Policies at the awkward points:
- prod never divides by ``x``: the product of the *other* elements is built from exclusive
  running products (``_scan.products_of_others``), so one zero, or several, along an
  axis give exact derivatives of every order.
- max/min split the cotangent evenly among the elements that attain the extremum (ties), and
  their tangent is the mean of the tied elements' tangents; when the extremum is NaN no
  element attains it and the derivative is 0. The elements that do not attain it took no
  part (a ``selection``): their tangents are dropped, even infinite ones, as are those of
  the elements that ``where=`` or a NaN of nanprod leaves out.
- std at an input whose spread is zero (a constant slice) has gradient 0 there: std is convex
  and that point is its minimum, so 0 is a subgradient (``safe_divide``). Second derivatives
  there are 0 as well, never NaN.
- var/std with ``ddof >= n`` (no degrees of freedom) give a NaN derivative, as the value
  itself is NaN or infinite there.
"""
import numpy as np

from ..arraytypes import broadcast_like
from ..errors import DifferentiationError
from ..errors import name_of
from ._helpers import (ZERO, Indexed, conj, dtype_of, forward, is_complex, is_zero, real_dtype,
                       reverse, safe_divide, selected, shape_of, to_dense, unbroadcast)
from ._scan import products_of_others

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


def expand_reduced(ct, x_shape, axis, keepdims=False, like=None):
    """Broadcast the cotangent of a reduction back over the reduced axes of ``x``, laid out
    as ``like`` (``x`` itself, where given: Dask's chunks).

    With or without ``keepdims`` the cotangent has the same elements in the same order as
    the kept shape, so one reshape restores the reduced axes as length-1 axes."""
    kept = kept_shape(x_shape, axis)
    if shape_of(ct) != kept and shape_of(ct) != ():   # one number broadcasts as it is
        ct = np.reshape(ct, kept)
    return np.broadcast_to(ct, x_shape) if like is None else broadcast_like(ct, x_shape, like)


def reduced_count(x_shape, axis):
    """How many elements of ``x`` each output element of the reduction combines."""
    return int(np.prod([x_shape[a] for a in reduced_axes(axis, len(x_shape))], dtype=np.int64))


def first_only(g, needs):
    """The pullback result of a rule whose only differentiable argument is the first."""
    return (g,) + (ZERO,) * (len(needs) - 1)


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


def where_keyword(where):
    """``where=`` as keywords for a reduction: none when every element counts (Dask's
    reductions take no ``where=``)."""
    return {} if unmasked(where) else {"where": where}


def where_mask(x, where):
    """``where=`` broadcast to ``x``'s shape, or None when every element counts."""
    return None if unmasked(where) else np.broadcast_to(where, shape_of(x))


def present(x, where):
    """The elements the nan- reductions count: not NaN, and selected by ``where``."""
    counted = ~np.isnan(x)
    return counted if unmasked(where) else counted & where


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


# ---------------------------------------------------------------------------------------------
# Nonlinear reductions, declared by their weights
# ---------------------------------------------------------------------------------------------


def reduction(fn, call, weights, real=False, selection=False, finish=None):
    """Declare a nonlinear reduction ``fn(x, ...)`` by its weights ``w = ∂out/∂x``; both of
    its rules come from them.

    ``call(x, *args, **kwargs)`` reads the arguments (``fn``'s own signature) as ``(axis,
    keepdims, options)``, and ``weights(x, out, axis, keepdims, *options)`` gives ``w`` in
    ``x``'s shape: NumPy code on possibly traced values, so the rules nest. The cotangent of
    ``x`` is ``ct · conj(w)`` over the reduced axes, then ``finish(g, *options)`` where given;
    the tangent is ``Σ_j w_j · dx_j`` (``push_reduction``). ``real``: the output is real for a
    complex ``x`` (var, std), so ``w`` is a gradient direction: ``Re(ct) · w`` and
    ``Re Σ conj(w) dx``. ``selection`` (True, or a function of the options): the elements of
    weight 0 took no part, so their tangents are dropped, even infinite ones.
    """
    if not callable(selection):
        selection = (lambda *options: True) if selection else (lambda *options: False)

    def rule(needs, x, *args, **kwargs):
        axis, keepdims, options = call(x, *args, **kwargs)
        out = fn(x, *args, **kwargs)

        def reduction_pullback(ct):
            w = weights(x, out, axis, keepdims, *options)
            if real and is_complex(ct):
                ct = np.real(ct)  # the output is real: only the real part of ct pairs with it
            g = expand_reduced(ct, shape_of(x), axis, keepdims) * (w if real else conj(w))
            if finish is not None:
                g = finish(g, *options)
            return first_only(unbroadcast(x, g), needs)

        return out, reduction_pullback

    def frule(tangents, x, *args, **kwargs):
        axis, keepdims, options = call(x, *args, **kwargs)
        out = fn(x, *args, **kwargs)
        if is_zero(tangents[0]):
            return out, ZERO
        w = weights(x, out, axis, keepdims, *options)
        return out, push_reduction(tangents[0], w, axis, keepdims, out, real, selection(*options))

    reverse(fn)(rule)
    forward(fn)(frule)


# --- prod: the product of the other factors, never a division by x ----------------------------


def _prod_call(counted):
    """The arguments of prod-like functions; ``counted(x, where)`` marks the factors that
    count (None: all of them)."""
    def call(x, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
             where=True):
        return axis, keepdims, (initial, counted(x, where))

    return call


def prod_weights(x, out, axis, keepdims, initial, mask):
    """∂prod/∂x: for each counted factor the product of the other counted factors (times
    ``initial``), 0 for the factors ``mask`` leaves out."""
    factors = x if mask is None else np.where(mask, x, 1)
    others = products_of_others(factors, reduced_axes(axis, len(shape_of(x))))
    if initial is not np._NoValue:
        others = others * initial
    return others if mask is None else np.where(mask, others, 0)


def _leaves_out(initial, mask):
    """Whether a prod call leaves factors out: they took no part (a selection)."""
    return mask is not None


def _zero_left_out(g, initial, mask):
    # Exactly 0 for the factors left out, even against a NaN or infinite cotangent.
    return g if mask is None else np.where(mask, g, 0)


reduction(np.prod, _prod_call(where_mask), prod_weights, selection=_leaves_out,
          finish=_zero_left_out)
reduction(np.nanprod, _prod_call(present), prod_weights, selection=_leaves_out,
          finish=_zero_left_out)

# --- max, min, ptp: ties split evenly -----------------------------------------------------------


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


def _extremum_call(x, axis=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    return axis, keepdims, (where,)


def _ptp_call(x, axis=None, out=None, keepdims=False):
    return axis, keepdims, ()


def ptp_weights(x, out, axis, keepdims):
    """∂ptp/∂x: the share of each element in the maximum minus its share in the minimum."""
    high = tie_share(x, np.max(x, axis=axis, keepdims=True), axis, True)
    low = tie_share(x, np.min(x, axis=axis, keepdims=True), axis, True)
    return high - low


# NumPy 2 keeps np.max and np.amax (np.min and np.amin) as distinct functions: declare each.
for _fn in (np.max, np.amax, np.min, np.amin, np.nanmax, np.nanmin):
    # The cotangent's zeros at the elements not chosen are structural (see ``selected``).
    reduction(_fn, _extremum_call, tie_share, selection=True, finish=lambda g, where: selected(g))
reduction(np.ptp, _ptp_call, ptp_weights, selection=True)

# --- var and std: from the centered values ------------------------------------------------------


def _moment_call(fn):
    """The arguments of var/std: ``where=`` is refused, ``correction=`` is ddof's other name."""
    def call(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
             mean=np._NoValue, correction=np._NoValue):
        reject(fn, where=None if where is True else where)
        return axis, keepdims, (ddof if correction is np._NoValue else correction,)

    return call


def _spread(x, axis, ddof):
    """``(x - mean) / dof`` over the reduced axes (NaN without degrees of freedom)."""
    dof = reduced_count(shape_of(x), axis) - ddof
    return (x - np.mean(x, axis=axis, keepdims=True)) * (1.0 / dof if dof > 0 else np.nan)


def var_weights(x, out, axis, keepdims, ddof):
    """The gradient direction of var: ``2 (x - mean) / dof``."""
    return 2 * _spread(x, axis, ddof)


def std_weights(x, out, axis, keepdims, ddof):
    """The gradient direction of std, var's over ``2 std``: 0 where std = 0 (a subgradient at
    std's minimum)."""
    std = out if keepdims else np.reshape(out, kept_shape(shape_of(x), axis))
    return safe_divide(_spread(x, axis, ddof), std)


reduction(np.var, _moment_call(np.var), var_weights, real=True)
reduction(np.std, _moment_call(np.std), std_weights, real=True)
