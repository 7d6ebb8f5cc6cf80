"""The few patterns every rule module shares: declaring rules, undoing broadcasting,
dividing safely at singular points."""
import numpy as np

from ..errors import DifferentiationError, name_of
from ..arraytypes import (TracedValue as Tracer, arange_like, asarray_like, dtype_of,
                          eye_like, full_like_value, is_complex, of_numpy_kind, ones_like_value,
                          shape_of, tri_like, zeros_like_value)
from ..partials import (broadcast_tangent, cleared_at_poles, push_partial, times_partial,
                        unbroadcast)
from ..primitives import non_differentiable, primitive
from ..registry import definitions, forward_rules, reverse_rules
from ..tangents import ZERO, Indexed, add, is_zero, scale, selected, to_dense

__all__ = ["ZERO", "is_zero", "selected", "forward", "add", "scale", "to_dense", "Indexed",
           "reverse_only", "broadcast_tangent", "non_differentiable", "primitive", "reverse",
           "linear", "elementwise", "unbroadcast", "safe_divide", "times_partial",
           "cleared_at_poles", "push_partial", "shape_of", "dtype_of", "is_complex", "dense",
           "Tracer", "derived_through", "as_array", "conj", "real_dtype",
           # constants made like a reference value (arraytypes): never a bare np.zeros
           "zeros_like_value", "ones_like_value", "full_like_value", "eye_like", "tri_like",
           "arange_like", "asarray_like"]


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
        definitions[fn] = definition
        return definition
    return register


# Functions with a reverse rule but deliberately no forward rule (the registry test reads it).
REVERSE_ONLY = set()


def reverse_only(*fns):
    """Mark functions whose forward rule is missing on purpose (say why where you call it)."""
    REVERSE_ONLY.update(fns)


def as_array(x):
    """An argument as an array: a tracer as it is, a list or tuple holding tracers stacked
    (``np.asarray`` would refuse them), anything else through ``np.asarray``."""
    if isinstance(x, Tracer):
        return x
    if type(x) in (list, tuple) and any(isinstance(v, Tracer) for v in x):
        return np.stack(x)
    if type(x) is not np.ndarray and not of_numpy_kind(x):   # another library's array
        return x   # (np.asarray would compute a Dask array, and CuPy refuses it)
    return np.asarray(x)


def dense(ct, like):
    """A cotangent that may be ``Zero`` (an unused output of a multi-output call) as an array."""
    return np.zeros_like(like) if is_zero(ct) else ct


def safe_divide(a, b):
    """``a / b`` with 0 where ``b == 0``: the subgradient policy at kinks and singularities."""
    zero = b == 0
    return np.where(zero, 0, a / np.where(zero, 1, b))


def elementwise(fn, *partials, singular=False, selection=False):
    """Declare an elementwise function once by its partial derivatives.

    ``partials[i]`` is ∂out/∂args[i]: a function ``(*args, out)`` or a constant number (0
    where the function is piecewise constant in it), or ``None``: that argument has no
    derivative, and a traced value there is an error. Complex inputs use the conjugate, as the
    pullback of a holomorphic function needs. ``singular`` marks derivatives that can be
    infinite (see ``times_partial``). ``selection`` marks functions that pick one argument
    (max/min): the zeros of their cotangents are structural (see ``arraytypes.ArrayType.selected``).
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
        need_x, need_y = needs
        if need_x and partial_x is None or need_y and partial_y is None:
            raise _not_differentiable_in(fn, 0 if partial_x is None else 1)
        out = fn(x, y, **kwargs) if kwargs else fn(x, y)

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


def _not_differentiable_in(fn, position):
    """A traced argument that ``fn`` has no derivative in (its partial was declared None)."""
    return DifferentiationError(
        f"{name_of(fn)} has no derivative with respect to its argument {position}, which was "
        f"traced. Pass a constant there, or cut the derivative on purpose with "
        f"wg.stop_gradient(...) on that argument.")


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


def linear(fn, transpose, tangent=None, sparse=None, compute=None):
    """Declare a function linear in its first argument: ``fn(x, *rest)``.

    ``transpose(ct, x, *rest, **kwargs)`` is the adjoint applied to the cotangent; the other
    arguments (axes, shapes, indices) get no cotangent. Forward mode applies the function
    itself to the tangent — or ``tangent(t, x, *rest, **kwargs)`` where the call is affine
    rather than linear (``initial=``, a padding constant). ``sparse(t, x, *rest, **kwargs)``
    may map a sparse ``Indexed`` tangent to the result's tangent without densifying it
    (returning None where it cannot). ``compute``: what computes ``fn`` (``fn`` itself by
    default), for a function that some array library lacks.
    """
    compute = fn if compute is None else compute
    forward_rules.add(fn, (), _linear_frule(compute, tangent, sparse), masked=True)

    def rule(needs, x, *rest, **kwargs):
        def pullback(ct):
            return (transpose(ct, x, *rest, **kwargs),) + (ZERO,) * len(rest)

        return compute(x, *rest, **kwargs), pullback

    reverse_rules.add(fn, (), rule, masked=True)


# ---------------------------------------------------------------------------------------------
# Forward mode: tangents pushed through the same declarations
# ---------------------------------------------------------------------------------------------

def _elementwise_frule(fn, partials, singular):
    def frule(tangents, *args, **kwargs):
        out = fn(*args, **kwargs)
        dy = ZERO
        for position, (t, partial, x) in enumerate(zip(tangents, partials, args)):
            if is_zero(t):
                continue
            if partial is None:
                raise _not_differentiable_in(fn, position)
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


# ---------------------------------------------------------------------------------------------
# Complex numbers: one definition each, for every rule module
# ---------------------------------------------------------------------------------------------

def conj(a):
    """The complex conjugate, free (no array operation) for real ``a``."""
    return np.conjugate(a) if is_complex(a) else a


def real_dtype(a):
    """The real dtype of ``a``'s precision (float32 for complex64, ...); float64 for integers
    and booleans, as NumPy's float results of them are."""
    dtype = dtype_of(a)
    return np.finfo(dtype).dtype if dtype.kind in "fc" else np.dtype(np.float64)
