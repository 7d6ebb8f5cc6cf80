"""bind(): the one door every primitive call on a traced value goes through.

It finds the innermost level among the call's tracers (tracers of other levels are
constants there) and hands the call to that level, which applies the rule for the function
and the argument types. A level reached by no tracer costs nothing: a call with no tracers
at all is just the NumPy call.
"""
import inspect

import numpy as np

from ..arraytypes import ATOMS, CONSTANTS as _CONSTANTS
from ..errors import DifferentiationError, name_of
from ..registry import _non_differentiable, definitions, implementations, no_rule
from ..tree import LEAF, flatten, unflatten
from .aliasing import kept
from .levels import Tracer, closed_level_error, primal

_SEQUENCES = (list, tuple)
_EMPTY = {}


def bind(fn, args, kwargs=_EMPTY):
    """Call ``fn(*args, **kwargs)`` where some arguments may be tracers: the one door that
    every traced call goes through (operators, ufuncs, NumPy functions, methods and
    wg.primitive calls alike).

    Tracers are found as arguments, inside lists and tuples, and anywhere inside other
    structures (a primitive's dataclass argument); those passed by keyword are moved to
    positions first. The innermost of their levels (the one opened last) handles the call;
    tracers of other levels are constants there."""
    top = None
    for a in args:
        if type(a) in _TRACERS:
            if top is None:
                top = a._level
            elif a._level.order > top.order:
                top = a._level
        elif type(a) not in _ATOMS:
            top = _innermost_inside(a, top)
    if kwargs:
        for value in kwargs.values():
            if type(value) not in _ATOMS and _innermost_inside(value, None) is not None:
                args, kwargs = _keywords_to_positions(fn, args, kwargs)
                return bind(fn, args, kwargs)
    if top is None:
        return _without_tracers(fn, args, kwargs)
    if not top.active:
        raise closed_level_error(name_of(fn))
    if fn in _non_differentiable and not top.records_everything:
        return fn(*_strip_tree(args), **_strip_tree(kwargs))
    return top.process(fn, args, kwargs)


# The door's commonest calls come through tracer methods made here, with the decisions of
# ``bind`` spelled out for their one or two arguments: a Python call saved per operation is
# about 5% of recording one.

def operator_door(ufunc, as_operand, reflected=False):
    """The method ``x.__mul__`` (``reflected``: ``x.__rmul__``) of a tracer: ``bind(ufunc,
    (x, other))``, or ``(other, x)``, without the loop over arguments. An operand that is
    neither a constant nor a tracer goes through ``as_operand`` first, which may answer
    NotImplemented (so that the operand's own type answers), then the general way; so do a
    closed level and a function marked non-differentiable."""
    def method(self, other):
        kind = type(other)
        if kind in _CONSTANTS:
            top = self._level
        elif kind in _TRACERS:
            top = self._level
            if other._level.order > top.order:
                top = other._level
        else:
            other = as_operand(other, ufunc, self)
            if other is NotImplemented:
                return NotImplemented
            return bind(ufunc, (other, self) if reflected else (self, other))
        args = (other, self) if reflected else (self, other)
        if top.active and ufunc not in _non_differentiable:
            return top.process(ufunc, args, _EMPTY)
        return bind(ufunc, args)

    return method


def unary_door(fn):
    """The method ``x.__neg__`` (``fn``: np.negative) of a tracer: ``bind(fn, (x,))``."""
    def method(self):
        top = self._level
        if top.active and fn not in _non_differentiable:
            return top.process(fn, (self,), _EMPTY)
        return bind(fn, (self,))

    return method


def ufunc_door(general):
    """The ``__array_ufunc__`` of tracers: a ufunc of one tracer alone (``np.sin(x)``) goes
    to its level at once; any other call to ``general``, the protocol's own handling."""
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if len(inputs) == 1 and not kwargs and method == "__call__":
            top = self._level
            if top.active and ufunc not in _non_differentiable:
                return top.process(ufunc, inputs, _EMPTY)
        return general(self, ufunc, method, *inputs, **kwargs)

    return __array_ufunc__


def _innermost_inside(x, top):
    """The innermost level among ``top`` and the tracers anywhere inside ``x``."""
    if isinstance(x, Tracer) or type(x) in _TRACERS:
        leaves = (x,)
    elif type(x) in _SEQUENCES and _flat(x):
        leaves = x   # the common structured case, a flat list of arrays: no flattening
    else:
        leaves = flatten(x)[0]
    for leaf in leaves:
        if isinstance(leaf, Tracer) or type(leaf) in _TRACERS:   # the staging level's too
            level = leaf._level
            if top is None or level.order > top.order:
                top = level
    return top


def _without_tracers(fn, args, kwargs):
    """No level handles the call: ``fn`` runs as it is (a primitive, its body)."""
    body = implementations.get(fn)
    return (fn if body is None else body)(*args, **kwargs)


def _strip_tree(x):
    """``x`` with every tracer anywhere inside it replaced by its concrete value."""
    if not x:
        return x
    leaves, treedef = flatten(x)
    return unflatten(treedef, [primal(v) if isinstance(v, Tracer) else v for v in leaves])


def strip(x):
    """``x`` with every tracer (also inside lists and tuples) replaced by its concrete value."""
    if isinstance(x, Tracer):
        return primal(x)
    if type(x) in _SEQUENCES:
        return type(x)(strip(v) for v in x)
    return x


def _keywords_to_positions(fn, args, kwargs):
    """Move keyword arguments into positions so that each traced value has a position for
    its cotangent. Rare path: only when a tracer is passed by keyword."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except (TypeError, ValueError):
        raise DifferentiationError(
            f"{name_of(fn)} received a traced value as a keyword argument and its signature "
            "cannot be read to place it; pass traced values positionally."
        ) from None
    if any(isinstance(v, Tracer) for v in flatten(bound.kwargs)[0]):
        # A tracer passed by keyword after skipped defaults (np.diff(x, append=t)): spell
        # the defaults out, so that every argument up to it has a position.
        bound.apply_defaults()
    if any(isinstance(v, Tracer) for v in flatten(bound.kwargs)[0]):
        raise DifferentiationError(
            f"{name_of(fn)} received a traced value as a keyword-only argument; wengert "
            "differentiates positional arguments only. Wrap the call in a wg.primitive "
            "that takes it positionally."
        )
    return bound.args, bound.kwargs


def split_args(args, level, info):
    """Separate a call's arguments for one level.

    Returns ``(primals, specs)``: ``primals`` has this level's tracers replaced by their
    values; ``specs`` holds, per positional argument, None (a constant here), ``info(t)`` for
    a tracer ``t`` of this level, a list of specs for a list/tuple argument, or a
    ``TreeSpec`` for any other structure holding tracers.
    """
    primals = []
    specs = []
    for a in args:
        if isinstance(a, Tracer):
            if a._level is level:
                primals.append(a._value)
                specs.append(info(a))
            else:
                primals.append(kept(a))   # a constant here, which the program may write
                specs.append(None)
        elif type(a) in _SEQUENCES and _flat(a):
            inner_specs = [info(b) if isinstance(b, Tracer) and b._level is level else None
                           for b in a]
            if any(s is not None for s in inner_specs):
                primals.append(type(a)(b._value if s is not None else kept(b)
                                       for b, s in zip(a, inner_specs)))
                specs.append(inner_specs)
            else:
                primals.append(a)
                specs.append(None)
        elif type(a) in _ATOMS:
            primals.append(a)
            specs.append(None)
        else:
            leaves, treedef = flatten(a)
            if treedef is LEAF:
                primals.append(a)
                specs.append(None)
                continue
            leaf_specs = [info(b) if isinstance(b, Tracer) and b._level is level else None
                          for b in leaves]
            if any(s is not None for s in leaf_specs):
                values = [b._value if s is not None else b for b, s in zip(leaves, leaf_specs)]
                primals.append(unflatten(treedef, values))
                specs.append(TreeSpec(treedef, leaf_specs))
            else:
                primals.append(a)
                specs.append(None)
    return primals, specs


class TreeSpec:
    """Where the tracers of one structured argument sit among its leaves."""

    __slots__ = ("treedef", "leaf_specs")

    def __init__(self, treedef, leaf_specs):
        self.treedef = treedef
        self.leaf_specs = leaf_specs


# Argument types that never hold a tracer (checked by identity before anything slower), and
# the tracer classes (each registers itself when it is defined).
_ATOMS = ATOMS
_TRACERS = set()


def _flat(items):
    """A list or tuple of tracers and atoms only: a list of specs describes it. Lists in
    lists (np.block) are structures, described by a TreeSpec like any other."""
    for b in items:
        if type(b) not in _ATOMS and not isinstance(b, Tracer):
            return False
    return True


def register_tracer_class(cls):
    _TRACERS.add(cls)


def run_without_rule(fn, args, kwargs, mode="reverse"):
    """No rule applies (none registered, or opted out for these types): run the code the call
    would have run — a primitive's body, or the NumPy override of an argument's own type
    (an ndarray subclass's ``__array_ufunc__`` / ``__array_function__``) — on the tracers,
    so that AD sees its inner operations. Otherwise say what is missing."""
    impl = implementations.get(fn) or definitions.get(fn)
    if impl is not None:
        return impl(*args, **kwargs)
    override = _own_override(fn, args, kwargs)
    if override is not None:
        return override()
    raise no_rule(fn, mode)


def _own_override(fn, args, kwargs):
    """The override of NumPy's protocol that an argument's type defines for ``fn``, bound to
    run on that argument's tracer; None where no argument's type has its own."""
    is_ufunc = isinstance(fn, np.ufunc)
    protocol = "__array_ufunc__" if is_ufunc else "__array_function__"
    for a in args:
        owner = type(primal(a))
        method = getattr(owner, protocol, None)
        if method is None or method is getattr(np.ndarray, protocol) or issubclass(owner, Tracer):
            continue
        if is_ufunc:
            return lambda: method(a, fn, "__call__", *args, **kwargs)
        return lambda: method(a, fn, (owner,), args, kwargs)
    return None
