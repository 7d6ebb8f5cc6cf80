"""The pullbacks the reverse level makes or wraps itself: the selector of one output of a
multi-output call, a user's pullback checked where its cotangents enter the engine, and the
cotangents of structured arguments (lists, trees) spread over their leaves' slots."""
from ..arraytypes import shape_of
from ..errors import DifferentiationError, name_of
from ..tangents import ZERO, accumulate, is_zero, zero_for_none
from ..tree import flatten


class SelectOutput:
    """Pullback of one element of a multi-output call: routes its cotangent into a tuple."""

    __slots__ = ("position", "count")

    def __init__(self, position, count):
        self.position = position
        self.count = count

    def __call__(self, ct):
        cts = [ZERO] * self.count
        cts[self.position] = ct
        return (tuple(cts),)


class OwningPullback:
    """A pullback that may write into its cotangent when the walk owns it (nothing else
    refers to it), and hand it on to its first argument: a subclass defines ``take(ct,
    ours)``, returning ``(grads, fresh)``, ``fresh`` saying that ``grads[0]`` is an array
    nothing else refers to (``ct`` itself, written in place, or a copy), which the walk may
    then own in turn. A write's pullback is one: a loop of writes passes one cotangent array
    down its whole chain, O(1) per write, instead of a copy per write. Called as a plain
    pullback, it never writes into ``ct``. (An object rather than a closure: one per write,
    where a closure and its cells would be five for the collector to walk.)"""

    __slots__ = ()

    def take(self, ct, ours):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __call__(self, ct):
        return self.take(ct, False)[0]


class UserPullback:
    """A user's pullback, checked where its cotangents enter the engine: a None for an
    argument (as JAX's custom_vjp and Zygote's ``nothing`` allow) is read as wg.Zero(), so the
    engine's zeros are Zero and NoTangent only; a cotangent whose shape is not its argument's
    is an error (broadcasting it on would hand back a gradient of the wrong shape)."""

    __slots__ = ("pullback", "primals", "fn")

    def __init__(self, pullback, primals, fn):
        self.pullback = pullback
        self.primals = primals
        self.fn = fn

    def __call__(self, ct):
        grads = self.pullback(ct)
        if type(grads) is not tuple:
            return grads   # not a tuple: the walk reports it
        grads = tuple(map(zero_for_none, grads))
        for position, (g, x) in enumerate(zip(grads, self.primals)):
            if (hasattr(g, "shape") and hasattr(x, "shape") and not is_zero(g)
                    and shape_of(g) != shape_of(x)):
                raise DifferentiationError(
                    f"The pullback of {name_of(self.fn)} returned a cotangent of shape "
                    f"{shape_of(g)} for its argument {position}, of shape {shape_of(x)}; "
                    "each cotangent must have its argument's shape.")
        return grads


def accumulate_structured(spec, g, cts, owned):
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


def bad_pullback(fn, parents, grads):
    return DifferentiationError(
        f"The pullback of {name_of(fn)} returned {type(grads).__name__}"
        + (f" of length {len(grads)}" if isinstance(grads, (tuple, list)) else "")
        + f"; it must return a tuple with one cotangent per positional argument "
        f"({len(parents)}), using wg.NoTangent() or wg.Zero() where there is none."
    )
