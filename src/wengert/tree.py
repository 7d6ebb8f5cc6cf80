"""Flatten and rebuild nested arguments: lists, tuples, dicts, namedtuples, dataclasses and
classes registered with ``register_tree``. Everything else is a leaf."""
import copy
import dataclasses

import numpy as np

from .arraytypes import TracedValue, looks_like_an_array, record_of
from .errors import DifferentiationError

_registered = {}


def register_tree(cls, flatten, unflatten):
    """Teach wengert the structure of ``cls``, so its instances are trees, not leaves.

    Arguments, outputs, tangents and gradients of type ``cls`` are then taken apart into
    their children: traced values are found inside, and a gradient of an instance comes back
    as an instance (or, when ``unflatten`` cannot build one from cotangents, a
    ``wg.Tangent`` of ``cls`` with fields ``_0``, ``_1``, ... for the children).

    Parameters
    ----------
    cls : type
        The class (exactly this class: subclasses are registered separately).
    flatten : callable
        ``flatten(obj) -> (children, aux)``: an iterable of the parts to differentiate, and
        any static data (hashable or not) needed to rebuild.
    unflatten : callable
        ``unflatten(aux, children) -> obj``: an instance built from them.

    Returns
    -------
    cls, so that it can be used as a class decorator's helper.

    Examples
    --------
    >>> import wengert as wg
    >>> class Line:
    ...     def __init__(self, slope, offset):
    ...         self.slope, self.offset = slope, offset
    >>> _ = wg.register_tree(Line, lambda l: ((l.slope, l.offset), None),
    ...                      lambda aux, children: Line(*children))
    >>> g, = wg.gradient(lambda l: (2.0 * l.slope + l.offset) ** 2, Line(1.0, 0.5))
    >>> print(g.slope, g.offset)
    10.0 5.0
    """
    _registered[cls] = (flatten, unflatten)
    return cls


class TreeDef:
    __slots__ = ("kind", "meta", "children", "num_leaves")

    def __init__(self, kind, meta, children):
        self.kind = kind
        self.meta = meta
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __repr__(self):
        return f"TreeDef({self.kind}, {self.children})"


LEAF = TreeDef("leaf", None, ())


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _dataclass_fields(x):
    return [f.name for f in dataclasses.fields(x)]


def flatten(x):
    """``(leaves, treedef)`` for any nested structure."""
    leaves = []
    return leaves, _flatten(x, leaves)


def _flatten(x, leaves):
    t = type(x)
    if t is list or t is tuple or _is_namedtuple(x):
        kind = "list" if t is list else ("tuple" if t is tuple else "namedtuple")
        return TreeDef(kind, t, tuple(_flatten(c, leaves) for c in x))
    if t is dict:
        keys = tuple(x.keys())
        return TreeDef("dict", keys, tuple(_flatten(x[k], leaves) for k in keys))
    if t in _registered:
        children, aux = _registered[t][0](x)
        return TreeDef("registered", (t, aux), tuple(_flatten(c, leaves) for c in children))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        names = _dataclass_fields(x)
        return TreeDef(
            "dataclass", (x, names), tuple(_flatten(getattr(x, n), leaves) for n in names)
        )
    leaves.append(x)
    return LEAF


def unflatten(treedef, leaves):
    """Rebuild the structure ``treedef`` describes from ``leaves`` (consumed in order)."""
    it = iter(leaves)
    return _unflatten(treedef, it, rebuild_objects=True)


def unflatten_tangent(treedef, leaves):
    """Like ``unflatten``, but an object that cannot be rebuilt becomes a ``wg.Tangent``."""
    it = iter(leaves)
    return _unflatten(treedef, it, rebuild_objects=False)


def _unflatten(td, it, rebuild_objects):
    kind = td.kind
    if kind == "leaf":
        return next(it)
    parts = [_unflatten(c, it, rebuild_objects) for c in td.children]
    if kind == "list":
        return parts
    if kind == "tuple":
        return tuple(parts)
    if kind == "namedtuple":
        return td.meta(*parts)
    if kind == "dict":
        return dict(zip(td.meta, parts))
    if kind == "registered":
        cls, aux = td.meta
        try:
            return _registered[cls][1](aux, parts)
        except Exception:
            if rebuild_objects:
                raise
            return _tangent_of(cls, [f"_{i}" for i in range(len(parts))], parts)
    template, names = td.meta
    try:
        obj = copy.copy(template)
        for name, value in zip(names, parts):
            object.__setattr__(obj, name, value)
        return obj
    except Exception:
        if rebuild_objects:
            raise
        return _tangent_of(type(template), names, parts)


def _tangent_of(cls, names, parts):
    from .tangents import Tangent

    return Tangent(cls, **dict(zip(names, parts)))


# Leaves that carry a tangent: floats and complex numbers, inexact arrays of a registered
# type, tracers.
_INEXACT_SCALARS = (float, complex, np.inexact)


def is_differentiable(leaf):
    if isinstance(leaf, TracedValue):
        return True
    if isinstance(leaf, np.ndarray):
        return leaf.dtype.kind in "fc"
    if isinstance(leaf, _INEXACT_SCALARS):
        return True
    if not looks_like_an_array(leaf):
        return False
    record = record_of(leaf)
    if record is not None:
        return isinstance(leaf, record.array) and leaf.dtype.kind in "fc"
    # Treating it as a constant would hand back the gradient None, silently.
    raise DifferentiationError(
        f"wengert cannot differentiate with respect to a {type(leaf).__module__}."
        f"{type(leaf).__name__}: no array type of that kind is registered. Convert it to "
        "a NumPy array (np.asarray) first, pass it as a constant the function closes "
        "over, or, for a class of your own that holds arrays, describe it with "
        "wg.register_tree (or make it a dataclass) so that its arrays are differentiated."
    )
