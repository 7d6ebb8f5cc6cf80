"""The reverse level: a tape of nodes recorded while the function runs, walked backwards."""
from ..errors import DifferentiationError
from ..registry import name_of, reverse_rules
from ..tangents import ZERO, Indexed, accumulate, is_zero, to_dense
from ..tree import flatten, is_differentiable
from ..numpy_protocol import ArrayMethods
from .bind import run_without_rule, split_args
from .levels import Level, Tracer, enter, leave


class Node:
    """One recorded call: its pullback and, per positional argument, where cotangents go."""

    __slots__ = ("pullback", "parents", "fn")

    def __init__(self, pullback, parents, fn):
        self.pullback = pullback
        self.parents = parents
        self.fn = fn


class ReverseTracer(ArrayMethods, Tracer):
    __slots__ = ("_index",)

    def __init__(self, value, level, index):
        self._value = value
        self._level = level
        self._index = index


def _index_of(tracer):
    return tracer._index


class _SelectOutput:
    """Pullback of one element of a multi-output call: routes its cotangent into a tuple."""

    __slots__ = ("position", "count")

    def __init__(self, position, count):
        self.position = position
        self.count = count

    def __call__(self, ct):
        cts = [ZERO] * self.count
        cts[self.position] = ct
        return (tuple(cts),)


class ReverseLevel(Level):
    __slots__ = ("tape",)

    def __init__(self, parent):
        super().__init__(parent)
        self.tape = []

    def new_input(self, value):
        self.tape.append(Node(None, (), None))
        return ReverseTracer(value, self, len(self.tape) - 1)

    def process(self, fn, args, kwargs):
        primals, parents = split_args(args, self, _index_of)
        rule = reverse_rules.lookup(fn, primals)
        if rule is None:
            return run_without_rule(fn, args, kwargs)
        if rule.masked:
            y, pullback = rule.impl(tuple(p is not None for p in parents), *primals, **kwargs)
        else:
            y, pullback = rule.impl(*primals, **kwargs)
        if pullback is None:
            return y
        return self.record(y, pullback, parents, fn)

    def record(self, y, pullback, parents, fn):
        tape = self.tape
        tape.append(Node(pullback, parents, fn))
        index = len(tape) - 1
        if isinstance(y, (tuple, list)):
            # One node for the call, one selector node per differentiable output.
            count = len(y)
            outputs = []
            for position, item in enumerate(y):
                if is_differentiable(item):
                    tape.append(Node(_SelectOutput(position, count), (index,), fn))
                    item = ReverseTracer(item, self, len(tape) - 1)
                outputs.append(item)
            return type(y)(*outputs) if hasattr(type(y), "_fields") else type(y)(outputs)
        return ReverseTracer(y, self, index)

    def backward(self, seeds, num_inputs, free):
        """Walk the tape from the seeded outputs back to the inputs.

        ``seeds`` is a list of ``(index, cotangent)``; returns the cotangents of the first
        ``num_inputs`` nodes (the inputs). ``free`` drops each node once it is used.
        """
        tape = self.tape
        end = max((i for i, _ in seeds), default=-1) + 1
        cts = [None] * max(end, num_inputs)
        owned = [False] * len(cts)
        for i, seed in seeds:
            cts[i], owned[i] = accumulate(cts[i], owned[i], seed)
        token = enter(self.parent)
        try:
            for i in range(end - 1, num_inputs - 1, -1):
                ct = cts[i]
                if ct is None:
                    continue
                cts[i] = None
                node = tape[i]
                if free:
                    tape[i] = None
                if type(ct) is tuple or isinstance(ct, Indexed):
                    ct = to_dense(ct)
                grads = node.pullback(ct)
                parents = node.parents
                if type(grads) is not tuple or len(grads) != len(parents):
                    raise _bad_pullback(node, grads)
                for spec, g in zip(parents, grads):
                    if spec is None or is_zero(g):
                        continue
                    if type(spec) is int:
                        cts[spec], owned[spec] = accumulate(cts[spec], owned[spec], g)
                    else:
                        _accumulate_structured(spec, g, cts, owned)
        finally:
            leave(token)
        return cts[:num_inputs]


def _accumulate_structured(spec, g, cts, owned):
    if type(spec) is list:
        parts = g
    else:  # TreeSpec: the cotangent mirrors the argument, or is a wg.Tangent of its fields
        parts = _tree_cotangent_leaves(spec, g)
    for s, part in zip(spec if type(spec) is list else spec.leaf_specs, parts):
        if s is not None and not is_zero(part):
            cts[s], owned[s] = accumulate(cts[s], owned[s], part)


def _tree_cotangent_leaves(spec, g):
    from ..tangents import Tangent

    if isinstance(g, Tangent):
        g = g.fields
    if isinstance(g, dict) and spec.treedef.kind in ("dataclass", "registered"):
        names = spec.treedef.meta[1] if spec.treedef.kind == "dataclass" else None
        if names is not None:
            parts = []
            for name, child in zip(names, spec.treedef.children):
                value = g.get(name, ZERO)
                parts.extend([ZERO] * child.num_leaves if is_zero(value) else flatten(value)[0])
            return parts
    leaves, treedef = flatten(g)
    if len(leaves) != spec.treedef.num_leaves:
        raise DifferentiationError(
            "A pullback returned a cotangent whose structure does not match its argument "
            f"(expected {spec.treedef.num_leaves} leaves, got {len(leaves)})."
        )
    return leaves


def _bad_pullback(node, grads):
    return DifferentiationError(
        f"The pullback of {name_of(node.fn)} returned {type(grads).__name__}"
        + (f" of length {len(grads)}" if isinstance(grads, (tuple, list)) else "")
        + f"; it must return a tuple with one cotangent per positional argument "
        f"({len(node.parents)}), using wg.NoTangent() or wg.Zero() where there is none."
    )
