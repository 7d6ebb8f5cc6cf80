"""The few patterns every rule module shares: declaring rules, undoing broadcasting,
dividing safely at singular points."""
import numpy as np

from ..core.levels import Tracer
from ..primitives import non_differentiable, primitive
from ..registry import forward_rules, implementations, reverse_rules
from ..tangents import ZERO, Indexed, Selected, add, is_zero, scale, selected, to_dense

__all__ = ["ZERO", "is_zero", "selected", "forward", "add", "scale", "to_dense", "Indexed",
           "reverse_only", "broadcast_tangent", "non_differentiable", "reverse", "linear", "elementwise",
           "unbroadcast", "safe_divide", "times_partial", "cleared_at_poles", "shape_of", "dtype_of",
           "is_complex", "dense", "Tracer", "derived_through", "as_array"]


def reverse(fn):
    """Decorator for a hand-written library rule ``rule(needs, *args, **kwargs)``.

    ``needs[i]`` says whether argument ``i`` wants a cotangent; the pullback returns
    ``ZERO`` for the others without computing them.
    """
    def register(impl):
        reverse_rules.add(fn, (), impl, masked=True)
        return impl
    return register


def forward(fn):
    """Decorator for a hand-written library forward rule ``rule(tangents, *args, **kwargs)``
    returning ``(out, tangent)``. ``tangents[i]`` is ``ZERO`` for an argument without one; a
    sparse ``Indexed`` tangent may be densified with ``to_dense`` where the rule cannot keep
    it sparse."""
    def register(impl):
        forward_rules.add(fn, (), impl, masked=True)
        return impl
    return register


def derived_through(fn):
    """Decorator for a traced definition of ``fn``: a NumPy function that NumPy writes in
    Python, converting its arguments with ``np.asarray`` first, so that it cannot run on
    tracers itself. Without a rule for ``fn``, AD runs the definition in its place, in both
    modes; the rules of its steps give the derivatives, to any order."""
    def register(definition):
        implementations[fn] = definition
        return definition
    return register


# Functions with a reverse rule but deliberately no forward rule (the registry test reads it).
REVERSE_ONLY = set()


def reverse_only(*fns):
    """Mark functions whose forward rule is missing on purpose (say why where you call it)."""
    REVERSE_ONLY.update(fns)


def shape_of(x):
    return x.shape if hasattr(x, "shape") else ()


def dtype_of(x):
    dt = getattr(x, "dtype", None)
    return dt if dt is not None else np.result_type(x)


def is_complex(x):
    return dtype_of(x).kind == "c"


def as_array(x):
    """An argument as an array: a tracer as it is, a list or tuple holding tracers stacked
    (``np.asarray`` would refuse them), anything else through ``np.asarray``."""
    if isinstance(x, Tracer):
        return x
    if type(x) in (list, tuple) and any(isinstance(v, Tracer) for v in x):
        return np.stack(x)
    return np.asarray(x)


def dense(ct, like):
    """A cotangent that may be ``Zero`` (an unused output of a multi-output call) as an array."""
    return np.zeros_like(like) if is_zero(ct) else ct


def unbroadcast(x, g):
    """Cotangent ``g`` of a broadcast result, summed back to the shape of argument ``x`` and
    made real if ``x`` is real (a real input's cotangent is the real part)."""
    x_type = type(x)
    if x_type is type(g):   # the common cases: nothing to undo
        if x_type is np.ndarray:
            if g.shape == x.shape and g.dtype == x.dtype:
                return g
        elif x_type in _SCALAR_TYPES:
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
    if type(x) is np.ndarray:
        if g.dtype != x.dtype:
            if g.dtype.kind == "c" and x.dtype.kind != "c":
                g = np.real(g)
            g = g.astype(x.dtype, copy=False)
    elif is_complex(g) and not is_complex(x):
        g = np.real(g)
    return g


_SCALAR_TYPES = frozenset({np.float64, np.float32, np.complex128, np.complex64, float, complex})


def safe_divide(a, b):
    """``a / b`` with 0 where ``b == 0``: the subgradient policy at kinks and singularities."""
    zero = b == 0
    return np.where(zero, 0, a / np.where(zero, 1, b))


def times_partial(ct, partial, args, out, singular):
    """``ct`` times the conjugate of one partial derivative.

    A partial given as a number (``1`` for add, ``-1`` for subtract) costs no array operation
    when it is ±1. Where the partial can be infinite (``singular``: poles such as 1/x at 0)
    or the cotangent's zeros are structural (``Selected``, from np.where or indexing), a zero
    cotangent gives exactly zero, not 0·inf = NaN, so what was not selected leaks nothing.
    """
    if type(partial) is int or type(partial) is float:
        if partial == 1:
            return ct
        return -ct if partial == -1 else ct * partial
    d = partial(*args, out)
    if out.dtype.kind == "c":
        d = np.conjugate(d)
    g = ct * d
    if type(g) is not np.ndarray and isinstance(ct, Tracer):
        # Nested differentiation. A traced zero is no structural zero (see cleared_at_poles),
        # and selection marks do not survive inside tracers, so every partial is checked:
        # exp's overflow in a branch np.where did not take must not make a Hessian NaN.
        cleared = cleared_at_poles(ct, d)
        return g if cleared is d else ct * cleared
    if singular or type(ct) is Selected:
        g = exact_zeros(ct, g)
    return g


def exact_zeros(ct, g):
    """``g`` with 0 wherever the plain cotangent (or tangent) ``ct`` is 0, in place on the
    fresh product ``g``.
    Only for a ``ct`` that is no tracer: a traced zero carries a derivative (see
    ``cleared_at_poles``)."""
    if type(g) is np.ndarray or type(g) is Selected:
        np.copyto(g, 0, where=ct == 0)
        return g
    return np.where(ct == 0, 0, g)


def cleared_at_poles(factor, d):
    """The derivative ``d`` with 0 where the traced ``factor`` it multiplies is 0 and ``d`` is
    infinite or NaN.

    A factor that is a tracer of an outer level (a cotangent or tangent in nested
    differentiation) is 0 in value but still carries its own derivative, ``d · dfactor``:
    replacing the product by a constant 0 would drop it (the Hessian of log(x)² at 1 would be
    0). So only the pole itself is cleared, in ``d``, and the product stays traced."""
    zero = factor == 0   # plain booleans: comparisons strip tracers
    if not np.any(zero):
        return d
    pole = zero & ~np.isfinite(d)
    return np.where(pole, 0, d) if np.any(pole) else d


def elementwise(fn, *partials, singular=False, selection=False):
    """Declare an elementwise function once by its partial derivatives.

    ``partials[i]`` is ∂out/∂args[i]: a function ``(*args, out)`` or a constant number (or
    ``None``: that argument is not differentiable). Complex inputs use the conjugate, as the
    pullback of a holomorphic function needs. ``singular`` marks derivatives that can be
    infinite (see ``times_partial``). ``selection`` marks functions that pick one argument
    (max/min): the zeros of their cotangents are structural (see ``tangents.Selected``).
    The forward rule comes from the same partials (see ``push_partial``).
    """
    forward_rules.add(fn, (), _elementwise_frule(fn, partials, singular), masked=True)
    # The reverse level records most calls as elementwise nodes from ``rule.elementwise``;
    # these rules serve the rest (keywords such as where=, tracers of several levels).
    if len(partials) == 1:
        (partial,) = partials

        def unary_rule(needs, x, **kwargs):
            if kwargs:
                return _unary_with_keywords(fn, partial, singular, x, kwargs)
            out = fn(x)
            return out, lambda ct: (times_partial(ct, partial, (x,), out, singular),)

        reverse_rules.add(fn, (), unary_rule, masked=True).elementwise = (partials, singular)
        return

    partial_x, partial_y = partials

    def binary_rule(needs, x, y, **kwargs):
        out = fn(x, y, **kwargs) if kwargs else fn(x, y)
        need_x, need_y = needs

        def pullback(ct):
            gx = gy = ZERO
            if need_x and partial_x is not None:
                gx = times_partial(ct, partial_x, (x, y), out, singular)
                gx = _apply_where(gx, kwargs) if kwargs else gx
                gx = unbroadcast(x, selected(gx) if selection else gx)
            if need_y and partial_y is not None:
                gy = times_partial(ct, partial_y, (x, y), out, singular)
                gy = _apply_where(gy, kwargs) if kwargs else gy
                gy = unbroadcast(y, selected(gy) if selection else gy)
            return gx, gy

        return out, pullback

    rule = reverse_rules.add(fn, (), binary_rule, masked=True)
    if not selection:   # a selection's partials depend on ties: only its own pullback knows
        rule.elementwise = (partials, singular)


def _unary_with_keywords(fn, partial, singular, x, kwargs):
    out = fn(x, **kwargs)

    def pullback(ct):
        g = times_partial(ct, partial, (x,), out, singular)
        return (unbroadcast(x, _apply_where(g, kwargs)),)

    return out, pullback


def _apply_where(g, kwargs):
    where = kwargs.get("where", True)
    if where is True:
        return g
    return selected(np.where(where, g, 0))


def linear(fn, transpose, tangent=None, sparse=None):
    """Declare a function linear in its first argument: ``fn(x, *rest)``.

    ``transpose(ct, x, *rest, **kwargs)`` is the adjoint applied to the cotangent; the other
    arguments (axes, shapes, indices) get no cotangent. Forward mode applies the function
    itself to the tangent — or ``tangent(t, x, *rest, **kwargs)`` where the call is affine
    rather than linear (``initial=``, a padding constant). ``sparse(t, x, *rest, **kwargs)``
    may map a sparse ``Indexed`` tangent to the result's tangent without densifying it
    (returning None where it cannot).
    """
    forward_rules.add(fn, (), _linear_frule(fn, tangent, sparse), masked=True)

    def rule(needs, x, *rest, **kwargs):
        def pullback(ct):
            return (transpose(ct, x, *rest, **kwargs),) + (ZERO,) * len(rest)

        return fn(x, *rest, **kwargs), pullback

    reverse_rules.add(fn, (), rule, masked=True)


# ---------------------------------------------------------------------------------------------
# Forward mode: tangents pushed through the same declarations
# ---------------------------------------------------------------------------------------------

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
    d = partial(*args, out)
    return broadcast_tangent(_times(d, t, out, x, singular), out_shape)


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
    return np.asarray(t, dtype) if shape_of(out) else dtype.type(t)


def _times(d, t, out, x, singular):
    traced_zeros = singular and isinstance(t, Tracer)
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
    if not isinstance(t, (np.ndarray, np.generic, Tracer)):   # a tracer: nested modes
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


def _elementwise_frule(fn, partials, singular):
    def frule(tangents, *args, **kwargs):
        out = fn(*args, **kwargs)
        dy = ZERO
        for t, partial, x in zip(tangents, partials, args):
            if partial is None or is_zero(t):
                continue
            dy = add(dy, push_partial(t, partial, x, args, out, singular))
        where = kwargs.get("where", True)
        if where is not True and not is_zero(dy):
            dy = np.where(where, to_dense(dy), 0)
        return out, dy

    return frule


def _linear_frule(fn, tangent, sparse):
    def frule(tangents, x, *rest, **kwargs):
        out = fn(x, *rest, **kwargs)
        t = tangents[0]
        if is_zero(t):
            return out, ZERO
        if isinstance(t, Indexed):
            if sparse is not None:
                result = sparse(t, x, *rest, **kwargs)
                if result is not None:
                    return out, result
            t = to_dense(t)
        if tangent is not None:
            return out, tangent(t, x, *rest, **kwargs)
        return out, fn(t, *rest, **kwargs)

    return frule
