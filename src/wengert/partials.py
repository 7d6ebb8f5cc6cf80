"""The elementwise partial product in both modes, and broadcasting undone: the tangent
arithmetic that the reverse level's elementwise nodes and the rules' own pullbacks and
pushforwards share, so that both compute exactly the same numbers.

- Reverse: ``times_partial`` (a cotangent times a conjugated partial derivative), with the
  NaN policy at poles (``exact_zeros``, ``cleared_at_poles``), then ``unbroadcast``.
- Forward: ``push_partial`` (a tangent, possibly sparse, times a partial derivative), then
  ``broadcast_tangent``.
"""
import numpy as np

from .arraytypes import (IN_PLACE, INEXACT_NUMBERS, RECORDED, StagedValue, TracedValue,
                         asarray_like, astype, concrete, dtype_of, is_complex, shape_of)
from .arraytypes import MAY_HOLD_SELECTED_ZEROS as _MAY_HOLD_SELECTED_ZEROS
from .arraytypes import MASKED_PRODUCTS as _MASKED_PRODUCTS
from .tangents import Indexed, scale, to_dense

_NDARRAY = np.ndarray   # a global, not an attribute of the module np, on the hot paths


_READABLE = (np.ndarray, np.generic, bool, int, float, complex)   # values read without cost


def unbroadcast(x, g):
    """Cotangent ``g`` of a broadcast result, summed back to the shape of argument ``x`` and
    made real if ``x`` is real (a real input's cotangent is the real part)."""
    x_type = type(x)
    if x_type is type(g):   # the common cases: nothing to undo
        if x_type is _NDARRAY:
            if g.shape == x.shape and g.dtype == x.dtype:
                return g
        elif x_type in INEXACT_NUMBERS:
            return g
    x_shape = shape_of(x)
    g_shape = shape_of(g)
    if g_shape != x_shape:
        lead = len(g_shape) - len(x_shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(x_shape) if n == 1 and g_shape[lead + i] != 1
        )
        g = np.sum(g, axis=axes)
        if shape_of(g) != x_shape:
            g = np.reshape(g, x_shape)
    if type(x) is np.ndarray or (   # an array: its cotangent takes its dtype (also where
            isinstance(x, StagedValue) and type(x._value) is np.ndarray):   # wg.compile traces it)
        g_dtype = dtype_of(g)   # g may be a Python number: a cotangent the caller passed
        if g_dtype != x.dtype:
            if g_dtype.kind == "c" and x.dtype.kind != "c":
                g = np.real(g)
            g = astype(g, x.dtype)
    elif is_complex(g) and not is_complex(x):
        g = np.real(g)
    return g




def times_partial(ct, partial, args, out, singular):
    """``ct`` times the conjugate of one partial derivative.

    A partial given as a number (``1`` for add, ``-1`` for subtract) costs no array operation
    when it is ±1. Where the partial can be infinite (``singular``: poles such as 1/x at 0)
    or the cotangent's zeros are structural (marked selected: from np.where or indexing), a zero
    cotangent gives exactly zero, not 0·inf = NaN, so what was not selected leaks nothing.

    Returns ``ct`` itself (a partial of 1) or a new value nothing else refers to: the reverse
    walk owns what it gets (accumulates into it in place) on that promise.
    """
    if type(partial) is int or type(partial) is float:
        if partial == 1:
            return ct
        return -ct if partial == -1 else ct * partial
    if type(ct) is not _NDARRAY:   # (NumPy's arrays have a mark: none to look for)
        masked_product = _MASKED_PRODUCTS.get(type(ct))
        if masked_product is not None and not _any_recorded(ct, args, out):
            # A type without a mark masks every product: its record forms it in one step.
            g = masked_product(ct, partial, args, out, out.dtype.kind == "c")
            if g is not None:
                return g
    d = partial(*args, out)
    if out.dtype.kind == "c":
        d = np.conjugate(d)
    g = ct * d
    if type(g) is not _NDARRAY and isinstance(ct, TracedValue):
        # Nested differentiation. A traced zero is no structural zero (see cleared_at_poles),
        # and selection marks do not survive inside tracers, so every partial is checked:
        # exp's overflow in a branch np.where did not take must not make a Hessian NaN.
        values = concrete(g)
        # Only NumPy's values are read: reading a lazy array (Dask's) would compute it.
        if isinstance(values, _READABLE) and not np.isnan(np.sum(values)):
            return g   # no 0·∞ anywhere (one pass, no temporary): the common case
        cleared = cleared_at_poles(ct, d)
        return g if cleared is d else ct * cleared
    if singular or type(ct) in _MAY_HOLD_SELECTED_ZEROS:   # may_hold_selected_zeros, inline
        g = exact_zeros(ct, g)
    return g


def _any_recorded(ct, args, out):
    """Whether an argument or the output is traced (nested differentiation) or staged: then
    the partial is no function of plain arrays' elements, to be evaluated chunk by chunk.
    Staged values are plain to a staged cotangent's product, which wg.compile makes a line of
    the program run on the concrete arrays."""
    kinds = TracedValue if isinstance(ct, StagedValue) else RECORDED
    return isinstance(out, kinds) or any(isinstance(a, kinds) for a in args)


def exact_zeros(ct, g):
    """``g`` with 0 wherever the plain cotangent (or tangent) ``ct`` is 0, in place on the
    fresh product ``g``.
    Only for a ``ct`` that is no tracer: a traced zero carries a derivative (see
    ``cleared_at_poles``)."""
    zero = np.logical_not(ct)   # ct == 0, without converting a 0 first (half the time)
    if type(g) in IN_PLACE:
        np.copyto(g, 0.0, where=zero)
        return g
    return np.where(zero, 0.0, g)


def cleared_at_poles(factor, d):
    """The derivative ``d`` with 0 where the traced ``factor`` it multiplies is 0 and ``d`` is
    infinite or NaN.

    A factor that is a tracer of an outer level (a cotangent or tangent in nested
    differentiation) is 0 in value but still carries its own derivative, ``d · dfactor``:
    replacing the product by a constant 0 would drop it (the Hessian of log(x)² at 1 would be
    0). So only the pole itself is cleared, in ``d``, and the product stays traced."""
    zero = factor == 0   # plain booleans: comparisons strip tracers
    if not isinstance(zero, _READABLE):   # lazy (Dask's): clear without reading it
        return np.where(zero & ~np.isfinite(d), 0, d)
    if not np.any(zero):
        return d
    pole = zero & ~np.isfinite(d)
    return np.where(pole, 0, d) if np.any(pole) else d


def push_partial(t, partial, x, args, out, singular):
    """The tangent of ``out`` due to tangent ``t`` of argument ``x``: ``partial · t``.

    A sparse ``Indexed`` tangent stays sparse when ``x`` is not broadcast against the output:
    the partial is evaluated at its index only (other arguments may broadcast; they are read
    at the index). When ``x`` is broadcast its tangent spreads over the output and is made
    dense. For a real function of a complex argument (abs, angle) the partial is a gradient
    direction and the tangent is ``Re(conj(partial) · t)``.
    """
    out_shape = shape_of(out)
    constant = type(partial) is int or type(partial) is float
    if isinstance(t, Indexed):
        if shape_of(x) == out_shape:
            if constant:
                return t if partial == 1 else scale(t, partial)
            return _push_indexed(t, partial, x, args, out, singular)
        t = to_dense(t)
    if constant:
        t = t if partial == 1 else scale(t, partial)
        if type(t) is float or type(t) is complex:
            t = _weakly_typed(t, out)
        return broadcast_tangent(t, out_shape)
    if singular:
        masked_product = _MASKED_PRODUCTS.get(type(t))
        # (not for a real function of a complex argument: its tangent is a real part)
        if masked_product is not None and not _any_recorded(t, args, out) and (
                dtype_of(out).kind == "c" or dtype_of(x).kind != "c"):
            product = masked_product(t, partial, args, out, False)
            if product is not None:
                return broadcast_tangent(_in_precision_of(out, product), out_shape)
    d = partial(*args, out)
    return broadcast_tangent(_times(d, t, out, x, singular), out_shape)


# Floating-point conditions that derivative code meets at poles and then masks (0·∞ in a
# product that exact_zeros clears): NumPy would print a RuntimeWarning about a number that is
# never returned. The reverse walk and a forward-mode run are under this state as a whole:
# one switch per pass, not one per operation (a switch costs about a microsecond).
QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


def _push_indexed(t, partial, x, args, out, singular):
    """``partial · t`` for an ``Indexed`` tangent of an argument shaped like the output."""
    shape = shape_of(out)
    if shape:
        index = t.index
        at = [_read_at(a, index, shape) for a in args]
        d = partial(*at, out[index])
    else:
        d = partial(*args, out)
    values = _times(d, t.values, out, x, singular)
    return Indexed(t.index, values, shape, dtype_of(out))


def _read_at(a, index, shape):
    """Argument ``a`` of an elementwise call with output ``shape``, read at ``index``."""
    a_shape = shape_of(a)
    if a_shape == shape:
        return a[index]
    if a_shape == ():
        return a
    return np.broadcast_to(a, shape)[index]   # a view: nothing of the output's size is made


def _weakly_typed(t, out):
    """A Python-number tangent in the precision of ``out``, as NumPy types a Python number in
    arithmetic (a float32 array plus 2.0 is float32): the tangent of a Python scalar argument
    then keeps the output's dtype when it is broadcast."""
    dtype = dtype_of(out)
    if dtype.kind not in "fc":
        return t
    dtype = np.result_type(t, np.finfo(dtype).dtype)
    return asarray_like(t, out, dtype) if shape_of(out) else dtype.type(t)


def _times(d, t, out, x, singular):
    traced_zeros = singular and isinstance(t, TracedValue)
    if traced_zeros:
        d = cleared_at_poles(t, d)
    if dtype_of(out).kind != "c" and dtype_of(x).kind == "c":
        product = np.real(np.conjugate(d) * t)
    else:
        product = d * t
    if singular and not traced_zeros:
        product = exact_zeros(t, product)   # a zero tangent moves nothing, even at a pole
    return _in_precision_of(out, product)


def _in_precision_of(out, t):
    """Tangent ``t`` no wider than the output: a partial evaluated at a Python-float argument
    is a float64 NumPy scalar, which would otherwise promote a float32 tangent. (A real
    tangent of a complex output stays real.)"""
    if not isinstance(t, (np.ndarray, np.generic, *RECORDED)):   # tracers, staged values
        return t
    want = dtype_of(out)
    if want.kind not in "fc" or t.dtype == want or t.dtype.kind not in "fc":
        return t
    if t.dtype.kind != want.kind:
        if t.dtype.kind == "c":   # not made here; never drop an imaginary part
            return t
        want = np.finfo(want).dtype
    if t.dtype.itemsize > want.itemsize and np.can_cast(want, t.dtype):
        return t.astype(want)
    return t


def broadcast_tangent(t, shape):
    """A dense tangent given the shape of the output it belongs to."""
    if shape_of(t) == shape:
        return t
    return np.broadcast_to(t, shape)
