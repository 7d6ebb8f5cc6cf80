"""The rule tables and their dispatch: ``rrule``, ``frule``, ``opt_out``, the functions
marked non-differentiable and the bodies of primitives. Tables only: how a call reaches
them is the core's business (``core/bind.py``), how a function becomes a primitive
``primitives.py``'s.

A rule is registered for a function and, optionally, argument types. The most specific
matching signature wins (by method resolution order); an opt-out is an entry in the same
table, so it wins or loses by the same test. The resolved rule is cached per
(function, argument types); functions whose only rule is generic skip type inspection.
"""
from .arraytypes import concrete
from .errors import WAYS_OUT, DifferentiationError, name_of

OPT_OUT = "opt_out"


class Rule:
    """One entry of a rule table. ``masked`` rules (the library's own) receive first a tuple
    saying which positional arguments need a cotangent, so they skip work for constants."""

    __slots__ = ("fn", "types", "impl", "masked", "elementwise")

    def __init__(self, fn, types, impl, masked=False):
        self.fn = fn
        self.types = types
        self.impl = impl
        self.masked = masked
        # ``(partials, singular)`` of a rule declared by ``rules._helpers.elementwise``: the
        # reverse level can then record a call's partial derivative without running ``impl``.
        self.elementwise = None

    def matches(self, arg_types):
        if len(self.types) > len(arg_types):
            return False
        return all(issubclass(a, t) for a, t in zip(arg_types, self.types))

    def at_least_as_specific_as(self, other):
        n = max(len(self.types), len(other.types))
        mine = self.types + (object,) * (n - len(self.types))
        theirs = other.types + (object,) * (n - len(other.types))
        return all(issubclass(a, b) for a, b in zip(mine, theirs))

    def describe(self):
        names = ", ".join(getattr(t, "__name__", str(t)) for t in self.types) or "any types"
        if self.impl is OPT_OUT:
            return f"opt_out for ({names})"
        what = getattr(self.impl, "__qualname__", "rule")
        code = getattr(self.impl, "__code__", None)
        if code is not None:   # rules are often all named ``_``: say where each one is
            what += f" ({code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno})"
        return f"{what} for ({names})"


class RuleTable:
    """The rules of one kind (reverse or forward) for every function."""

    def __init__(self, kind):
        self.kind = kind
        self.entries = {}   # fn -> [Rule]
        self.generic = {}   # fn -> Rule, while fn has no type-specific entry
        self.cache = {}     # (fn, arg types) -> Rule or None

    def add(self, fn, types, impl, masked=False):
        types = tuple(types)
        while types and types[-1] is object:
            types = types[:-1]   # (T, object) is the signature (T,): one entry, not a tie
        rule = Rule(fn, types, impl, masked)
        entries = self.entries.setdefault(fn, [])
        entries[:] = [r for r in entries if r.types != rule.types] + [rule]
        self.cache.clear()
        if len(entries) == 1 and not rule.types and impl is not OPT_OUT:
            self.generic[fn] = rule
        else:
            self.generic.pop(fn, None)
        return rule

    def names(self, fn, cls):
        """Whether some rule for ``fn`` names ``cls`` (or a base of it) among its types: then
        a call with an object of that foreign type is the rule's to handle."""
        return any(issubclass(cls, t) for rule in self.entries.get(fn, ()) for t in rule.types
                   if t is not object)

    def lookup(self, fn, primals):
        """The rule for calling ``fn`` on ``primals``, or None (no rule, or opted out)."""
        rule = self.generic.get(fn)
        if rule is not None:
            return rule
        entries = self.entries.get(fn)
        if not entries:
            return None
        arg_types = tuple(type(concrete(p)) for p in primals)
        key = (fn, arg_types)
        try:
            rule = self.cache[key]
        except KeyError:
            rule = self.cache[key] = self._resolve(fn, entries, arg_types)
        return rule

    @staticmethod
    def _resolve(fn, entries, arg_types):
        candidates = [r for r in entries if r.matches(arg_types)]
        best = [r for r in candidates if all(r.at_least_as_specific_as(o) for o in candidates)]
        if not candidates:
            return None
        if len(best) != 1:
            tied = [r for r in candidates if not any(
                o.at_least_as_specific_as(r) and not r.at_least_as_specific_as(o)
                for o in candidates)]
            raise DifferentiationError(
                f"Ambiguous rules for {name_of(fn)} on argument types "
                f"({', '.join(t.__name__ for t in arg_types)}): "
                + " and ".join(r.describe() for r in tied)
                + ". Register a rule for these exact types to decide."
            )
        rule = best[0]
        return None if rule.impl is OPT_OUT else rule


reverse_rules = RuleTable("reverse")
forward_rules = RuleTable("forward")
_non_differentiable = set()
# The Python body behind each wg.primitive: what a call runs when no level handles it, and
# what AD goes through when no rule applies.
implementations = {}
# Traced definitions of NumPy functions that NumPy writes in Python on np.asarray
# (``rules._helpers.derived_through``): what AD runs in their place when no rule applies.
definitions = {}
# Functions of libraries NumPy does not dispatch (SciPy), reached through a door in their
# module (``rules._reach``): original function -> the public name it was reached under.
reached = {}


def no_rule(fn, mode="reverse"):
    """The error for a call on a traced value that no rule of ``mode`` covers."""
    other = "reverse" if mode == "forward" else "forward"
    has_other = fn in (reverse_rules if other == "reverse" else forward_rules).entries
    what = f"no {mode}-mode rule" + (
        f" (it has a {other}-mode one)" if has_other else " (no derivative rule at all)")
    return DifferentiationError(
        f"wengert has {what} for {name_of(fn)}, which was called on a traced value. "
        + WAYS_OUT
    )


def rrule(fn, *types):
    """Register a reverse rule for ``fn``; use as a decorator.

    The rule is called as ``rule(*args, **kwargs)`` with the call's arguments (values, not
    this level's tracers) and returns ``(value, pullback)``. ``pullback(dy)`` returns a tuple
    with one cotangent per positional argument: an array of the argument's shape, a number
    for a scalar, the same structure for a tree (or a ``wg.Tangent``), ``wg.Zero()`` for no
    influence, ``wg.NoTangent()`` for no tangent space. For a tuple output ``dy`` is a tuple,
    ``wg.Zero()`` where an output was not used. Written in NumPy on its inputs (no
    ``float()``, no branching on values, no writes), a rule supports every order.

    Parameters
    ----------
    fn : callable
        A ``wg.primitive`` (or primitive method), or a NumPy function or ufunc.
    *types : type
        Restrict the rule to calls whose positional arguments are instances of these
        (missing trailing types mean ``object``). The most specific matching rule wins; a
        tie is a ``DifferentiationError`` at call time, naming both rules. Registering the
        same ``fn`` and ``types`` again replaces the rule.

    Returns
    -------
    callable
        A decorator that registers the rule and returns it unchanged.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> @wg.primitive
    ... def square(x):
    ...     return x * x
    >>> @wg.rrule(square)
    ... def square_rrule(x):
    ...     return x * x, lambda dy: (2 * x * dy,)
    >>> print(wg.gradient(square, 3.0))
    (6.0,)
    """
    def register(impl):
        reverse_rules.add(fn, types, impl)
        return impl
    return register


def frule(fn, *types):
    """Register a forward rule for ``fn``; use as a decorator.

    The rule is called as ``rule(*tangents, *args, **kwargs)``: one tangent per positional
    argument first (``wg.Zero()`` for an argument with none at this level; the same
    structure for a tree), then the arguments. It returns ``(value, tangent)``, a tuple of
    tangents for a tuple output. Without a forward rule, forward mode goes through a
    primitive's body.

    Parameters
    ----------
    fn : callable
        As for ``wg.rrule``.
    *types : type
        As for ``wg.rrule``.

    Returns
    -------
    callable
        A decorator that registers the rule and returns it unchanged.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> @wg.primitive
    ... def cube(x):
    ...     return x ** 3
    >>> @wg.frule(cube)
    ... def cube_frule(dx, x):
    ...     return x ** 3, 3 * x ** 2 * dx
    >>> print(wg.derivative(cube, 2.0))
    12.0
    """
    def register(impl):
        forward_rules.add(fn, types, impl)
        return impl
    return register


def opt_out(fn, *types):
    """For calls of ``fn`` with these argument types no rule applies: AD goes through the
    code the call runs.

    That code is a primitive's body, or the NumPy override (``__array_ufunc__`` /
    ``__array_function__``) of an argument's type, run with the tracer in place of the array
    (how an ``ndarray`` subclass keeps a structured gradient). An opt-out is an entry in the
    same table as the rules, for both modes: the most specific entry wins, rule or opt-out.
    With no types it covers every call. Registering a rule for the same types replaces it.

    Parameters
    ----------
    fn : callable
        A ``wg.primitive``, or a NumPy function or ufunc.
    *types : type
        The argument types, as for ``wg.rrule``.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> @wg.primitive
    ... def double(x):
    ...     return 2 * x
    >>> @wg.rrule(double)
    ... def wrong_rule(x):
    ...     return 2 * x, lambda dy: (3 * dy,)
    >>> wg.opt_out(double)
    >>> print(wg.gradient(double, 1.0))   # through the body, not the rule
    (2.0,)
    """
    reverse_rules.add(fn, types, OPT_OUT)
    forward_rules.add(fn, types, OPT_OUT)


def mark_non_differentiable(*fns):
    """Calls of these functions (reached through ``bind``) carry no tangent: the table entry
    behind ``wg.non_differentiable``."""
    _non_differentiable.update(fns)
