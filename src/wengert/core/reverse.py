"""The reverse level: a tape of nodes recorded while the function runs, walked backwards."""
from ..registry import reverse_rules
import numpy as np

# An elementwise node applies the very helpers the rules' own pullbacks use.
from ..arraytypes import ATOMS as _ATOMS, CONSTANTS as _CONSTANTS, INEXACT_SCALARS as _SCALARS
from ..arraytypes import ONE_VALUE as _SINGLE_OUTPUTS, ConversionRefused, refused, writeable
from ..partials import QUIET, times_partial, unbroadcast
from ..tangents import NO_TANGENT, ZERO, Indexed, OneHot, accumulate, to_dense
from ..tree import is_differentiable
from ..errors import DifferentiationError, name_of as rule_name
from .protocol import ArrayMethods
from .bind import run_without_rule, split_args
from .pullbacks import (OwningPullback, SelectOutput, UserPullback, accumulate_structured,
                        bad_pullback)
from .levels import Level, Tracer, quiet_collector
from .aliasing import UNSHARED as _UNSHARED, kept, refcount as _refcount
from . import staging
from .staged import FOREIGN as _STAGED_FOREIGN


# A node of the tape: one tuple layout for every node, the only place it is spelled out.
#
#     (step, parents, primals, out, like, rule)
#
# - ``rule``: the Rule entry of the call (its ``fn`` names it in messages); None for an input.
# - A node with a pullback (any rule): ``step`` is the pullback, ``primals`` is None, ``out``
#   and ``like`` unused; ``parents`` holds, per positional argument, where its cotangent
#   goes: None, a tape index, or a structure of them. A pullback that is an
#   ``OwningPullback`` (a write's) is handed the cotangent with whether the walk owns it, and
#   may write into it and hand it on, owned, to its first argument.
# - An elementwise node (a rule declared by its partial derivatives): ``step`` is the partial
#   to apply, ``parents`` the tape index of the traced argument, ``primals`` the arguments it
#   reads with the output ``out``, and ``like`` what to sum the product back to (None where
#   no broadcasting happened): the walk computes ``unbroadcast(like, ct · partial(*primals,
#   out))`` (see ``times_partial``). With two traced arguments ``step``, ``parents`` and
#   ``like`` are pairs. No closure is created for these, the commonest calls.
#
# Tuples cost an eighth of a slotted object to create, and one is created per operation.

class ReverseTracer(ArrayMethods, Tracer):
    __slots__ = ("_index",)

    def __init__(self, value, level, index):
        self._value = value
        self._level = level
        self._index = index


def _index_of(tracer):
    return tracer._index


class ReverseLevel(Level):
    __slots__ = ("tape",)

    def __init__(self, parent):
        super().__init__(parent)
        # Entry 0 is a sentinel so that every real node index is truthy (see process).
        self.tape = [_INPUT]

    def new_input(self, value):
        self.tape.append(_INPUT)
        if type(value) is np.ndarray and staging.tracing():
            # wg.compile: an array not passed to the compiled function (a closed-over one,
            # a parameter) is read by the program, so its derivative is computed there too
            value = staging.lift_constant(value)
        return ReverseTracer(kept(value), self, len(self.tape) - 1)

    def constant(self, value):
        """A tracer of this level that depends on nothing (np.zeros_like(x), an array
        overwritten whole by constants): arrays the program writes traced values into."""
        self.tape.append(_CONSTANT)
        return ReverseTracer(value, self, len(self.tape) - 1)

    def process(self, fn, args, kwargs):
        rule = _generic_rules.get(fn)
        if rule is not None and rule.elementwise is not None and not kwargs:
            # An elementwise call of one or two arguments, each a tracer of this level or a
            # plain constant: the node keeps the partial derivatives to apply, not a pullback
            # closure: two thirds of the general path's cost, on the commonest calls.
            partials = rule.elementwise[0]
            x = args[0]
            node = None
            if len(args) == 1:
                if type(x) is ReverseTracer:   # bind chose this level for it: it is ours
                    value = x._value
                    out = fn(value)
                    node = (partials[0], x._index, (value,), out, None, rule)
            elif len(args) == 2:
                y = args[1]
                x_here = type(x) is ReverseTracer and x._level is self
                y_here = type(y) is ReverseTracer and y._level is self
                if x_here and y_here:
                    if partials[0] is not None and partials[1] is not None:
                        primals = (x._value, y._value)
                        out = fn(*primals)
                        node = (partials, (x._index, y._index), primals, out,
                                (_unless_like(x._value, out), _unless_like(y._value, out)),
                                rule)
                elif x_here:
                    if type(y) in _CONSTANTS and partials[0] is not None:
                        value = x._value
                        out = fn(value, y)
                        if type(y) is _NDARRAY:
                            y = _saved(y, partials[0])
                        node = (partials[0], x._index, (value, y), out,
                                _unless_like(value, out), rule)
                elif y_here and type(x) in _CONSTANTS and partials[1] is not None:
                    value = y._value
                    out = fn(x, value)
                    if type(x) is _NDARRAY:
                        x = _saved(x, partials[1])
                    node = (partials[1], y._index, (x, value), out,
                            _unless_like(value, out), rule)
            if node is not None:
                tape = self.tape
                tape.append(node)
                traced = _new(ReverseTracer)
                traced._value = out
                traced._level = self
                traced._index = len(tape) - 1
                return traced
        # Fast path: every argument is a tracer or a plain value (no lists or trees).
        # ``parents`` doubles as the rule's ``needs``: tape indices start at 1, so an entry
        # is truthy exactly when that argument wants a cotangent.
        primals = []
        parents = []
        for a in args:
            if isinstance(a, Tracer):
                if a._level is self:
                    primals.append(a._value)
                    parents.append(a._index)
                    continue
                a = kept(a)   # an outer level's tracer, a constant here: the program may write it
            elif type(a) not in _ATOMS:
                primals, parents = split_args(args, self, _index_of)
                break
            elif type(a) is _NDARRAY:
                a = _saved(a)
            primals.append(a)
            parents.append(None)
        if rule is None:
            rule = reverse_rules.lookup(fn, primals)
        if rule is None:
            return run_without_rule(fn, args, kwargs)
        if fn in staging.opaque and rule.masked and staging.tracing() and not any(
                isinstance(p, Tracer) or type(p) in _STAGED_FOREIGN for p in primals):
            # wg.compile of NumPy's arrays: the rule as one line
            y, pullback = staging.opaque_rule(rule.impl, parents, primals, kwargs, rule_name(fn))
        elif not rule.masked:   # a user's rule
            y, pullback = rule.impl(*primals, **kwargs)
            pullback = UserPullback(pullback, primals, fn) if pullback is not None else None
        elif kwargs:
            y, pullback = rule.impl(parents, *primals, **kwargs)
        else:
            y, pullback = rule.impl(parents, *primals)
        if pullback is None:
            return y
        tape = self.tape
        tape.append((pullback, parents, None, None, None, rule))
        if type(y) in _SINGLE_OUTPUTS or not isinstance(y, (tuple, list)):
            return ReverseTracer(y, self, len(tape) - 1)
        return self._record_outputs(y, len(tape) - 1, rule)

    def write_into(self, fn, x, index, v):
        # process() for this one call, less what it does not need: no new tracer for x to
        # take the fields of, no search for the level or the rule.
        if type(v) is ReverseTracer:
            parents = [x._index, None, v._index]
            v = v._value
        else:
            parents = [x._index, None, None]
        rule = _generic_rules.get(fn) or reverse_rules.lookup(fn, ())
        _, pullback = rule.impl(parents, x._value, index, v)
        tape = self.tape
        tape.append((pullback, parents, None, None, None, rule))
        x._index = len(tape) - 1

    def _record_outputs(self, y, index, rule):
        """One selector node per differentiable element of a multi-output call."""
        tape = self.tape
        count = len(y)
        outputs = []
        for position, item in enumerate(y):
            if is_differentiable(item):
                tape.append((SelectOutput(position, count), (index,), None, None, None, rule))
                item = ReverseTracer(item, self, len(tape) - 1)
            outputs.append(item)
        return type(y)(*outputs) if hasattr(type(y), "_fields") else type(y)(outputs)

    def backward(self, seeds, num_inputs, free):
        """Walk the tape from the seeded outputs back to the inputs.

        ``seeds`` is a list of ``(index, cotangent)``; returns the cotangents of the
        ``num_inputs`` input nodes (recorded first, at 1, 2, ...). ``free`` drops each node
        once it is used.
        """
        num_inputs += 1  # the sentinel
        tape = self.tape
        end = max((i for i, _ in seeds), default=-1) + 1
        cts = [None] * max(end, num_inputs)
        owned = [False] * len(cts)
        for i, seed in seeds:
            cts[i], owned[i] = accumulate(cts[i], owned[i], seed)
        # The walk runs under the caller's level, not this level's parent: pullbacks that
        # open transformations of their own (a rule handing its work to wg.derivative) then
        # nest inside whatever differentiates the caller, e.g. with respect to the cotangent.
        # Derivatives at poles are masked where the cotangent is 0 (0·∞ = 0): NumPy's warning
        # about the ∞ it computed on the way is about no number anyone sees.
        with quiet_collector(), np.errstate(**QUIET):
            if self.refusing:   # a rule here was given lazy arrays: its pullback computes none
                with refused(self.refusing):
                    self._walk(tape, cts, owned, end, num_inputs, free)
            else:
                self._walk(tape, cts, owned, end, num_inputs, free)
        # A cotangent the walk did not allocate may be the caller's own seed, or one array
        # handed to several inputs (x + x): each input gets an array of its own. One that
        # nothing else refers to any more (a pullback's fresh result, its node freed) is
        # already the caller's own: copying it would cost a pass over the gradient.
        results = []
        for i in range(1, num_inputs):
            ct = cts[i]
            cts[i] = None   # from here on ``ct`` is the only reference this frame holds
            if ct is None:
                ct = ZERO
            elif not owned[i] and isinstance(ct, np.ndarray) and not (
                    ct.base is None and _refcount(ct) <= _UNSHARED):
                ct = ct.copy()
            results.append(ct)
        return results

    @staticmethod
    def _walk(tape, cts, owned, end, num_inputs, free):
        """The reverse sweep: each node's cotangent through its pullback into its parents."""
        node = None
        try:
            for i in range(end - 1, num_inputs - 1, -1):
                ct = cts[i]
                if ct is None:
                    continue
                cts[i] = None
                ct_is_ours = owned[i]
                node = tape[i]
                if free:
                    tape[i] = None
                if type(ct) in _STRUCTURED:
                    ct = to_dense(ct)
                    ct_is_ours = False
                step, parents, primals, out, like, rule = node
                if primals is None:   # a pullback
                    if isinstance(step, OwningPullback):
                        grads, fresh = step.take(ct, ct_is_ours)
                        first = parents[0]
                        if fresh and type(first) is int and cts[first] is None:
                            cts[first] = grads[0]   # handed on, owned: see OwningPullback
                            owned[first] = True
                            grads = (ZERO,) + grads[1:]
                    else:
                        grads = step(ct)
                    if type(grads) is not tuple or len(grads) != len(parents):
                        raise bad_pullback(rule.fn, parents, grads)
                elif type(parents) is int:   # an elementwise node with one traced argument
                    g = times_partial(ct, step, primals, out, rule.elementwise[1])
                    # Only this slot refers to a product (times_partial makes a new one, or
                    # hands on ct itself), or to the node's own cotangent handed on whole;
                    # summed back, it may be a view (np.real of it) that shares its base.
                    if like is None:
                        unshared = g is not ct or ct_is_ours
                    else:
                        g = unbroadcast(like, g)
                        unshared = (type(g) is _NDARRAY and g.base is None
                                    and (g is not ct or ct_is_ours))
                    slot = cts[parents]
                    if slot is None:   # _add_into, inline: the commonest step of the walk
                        cts[parents] = g
                        owned[parents] = unshared
                    else:
                        cts[parents], owned[parents] = accumulate(slot, owned[parents], g)
                    continue
                else:   # an elementwise node with two traced arguments
                    singular = rule.elementwise[1]
                    g0 = _elementwise_cotangent(ct, step[0], primals, out, like[0], singular)
                    g1 = _elementwise_cotangent(ct, step[1], primals, out, like[1], singular)
                    # A fresh product is its slot's own; the node's cotangent may go on whole to
                    # one parent if the other got a fresh array (x - y: ct to x, -ct to y),
                    # never to both (x + y).
                    fresh0 = g0 is not ct and type(g0) is _NDARRAY and g0.base is None
                    fresh1 = g1 is not ct and type(g1) is _NDARRAY and g1.base is None
                    whole = ct_is_ours and type(ct) is _NDARRAY and ct.base is None
                    _add_into(cts, owned, parents[0], g0, fresh0 or whole and fresh1 and g0 is ct)
                    _add_into(cts, owned, parents[1], g1, fresh1 or whole and fresh0 and g1 is ct)
                    continue
                for spec, g in zip(parents, grads):
                    if spec is None or g is ZERO or g is NO_TANGENT:
                        continue
                    if type(spec) is int:
                        slot = cts[spec]
                        if slot is None:
                            cts[spec] = g      # not owned: the pullback may share g
                        else:
                            cts[spec], owned[spec] = accumulate(slot, owned[spec], g)
                    else:
                        accumulate_structured(spec, g, cts, owned)

        except ConversionRefused as refusal:   # raised only where the level refuses conversions
            raise DifferentiationError(refusal.record.refusal(
                f"{rule_name(node[5].fn)}'s pullback")) from None


def _add_into(cts, owned, index, g, unshared):
    """Accumulate cotangent ``g`` into slot ``index``; ``unshared``: nothing else refers to
    ``g``, so later cotangents may be added into it in place and nobody needs a copy."""
    slot = cts[index]
    if slot is None:
        cts[index] = g
        owned[index] = unshared
    else:
        cts[index], owned[index] = accumulate(slot, owned[index], g)


def _saved(constant, partial=None):
    """A constant NumPy array argument as a node keeps it for the backward pass: a writable one
    is copied, because the program may overwrite it before the walk reads it (``t[:] = k``
    in a loop would otherwise give every node the last ``t``). A partial that is a number
    (add, subtract) never reads its arguments, so nothing is copied for it."""
    if (writeable(constant) and type(partial) is not int
            and type(partial) is not float):
        if staging.tracing():   # wg.compile: the program refers to it (core/staging.py)
            return staging.lift_constant(constant)
        return constant.copy(order="K")   # the same layout: BLAS rounds the same way
    return constant


def _elementwise_cotangent(ct, partial, args, out, like, singular):
    g = times_partial(ct, partial, args, out, singular)
    return g if like is None else unbroadcast(like, g)


def _unless_like(value, out):
    """What an elementwise node keeps to sum a cotangent back to ``value``'s shape and dtype
    (see ``unbroadcast``): None where they are ``out``'s already, the common case."""
    kind = type(value)
    if kind is type(out) and (kind in _SCALARS or kind is _NDARRAY and (
            value.shape == out.shape and value.dtype == out.dtype)):
        return None
    return value


_STRUCTURED = (tuple, Indexed, OneHot)
_NDARRAY = np.ndarray   # a global, not an attribute of the module np, on the hot paths
_INPUT = (None, (), None, None, None, None)   # an input's node (and the sentinel at 0)


def _no_parents(ct):
    return ()


_CONSTANT = (_no_parents, (), None, None, None, None)   # a node no cotangent leaves
_new = object.__new__
_generic_rules = reverse_rules.generic
