"""Implicit parameters, as in Zygote: ``Params`` names arrays by identity, ``gradient(f, ps)``
returns ``Grads`` keyed by those same arrays.

NumPy operations on a plain ndarray never reach wengert, so while ``f`` runs each parameter
is replaced by its tracer wherever ``f`` can reach it — closure cells, the globals its code
names (and the names it reads from modules), lists, dicts, tuples, object attributes, the
classes of those objects, the functions and methods it refers to — and every reference is
put back afterwards, also when ``f`` raises (see reach.py). docs/params.md says
what this reaches and what it cannot.
"""
import dataclasses
import warnings

import numpy as np

from .arraytypes import record_of
from .core.levels import Tracer, primal
from .errors import DifferentiationError
from .reverse_api import withgradient_and_reach
from .reach import _Substitution, _current_stand_in
from .references import _HEAP_TYPE, _LIBRARIES, _attributes, treat_as_opaque
from .tree import _registered


# ---------------------------------------------------------------------------------------------
# Params and Grads
# ---------------------------------------------------------------------------------------------

class Params:
    """The arrays to differentiate with respect to, remembered by identity.

    ``Params([W, b])``, or ``Params(tree)`` for every inexact array leaf of a nested list,
    tuple, dict, dataclass, registered tree or plain object. Everything else is skipped:
    integer and boolean arrays, strings, and numbers (a float hyperparameter such as a
    learning rate is not trained: a number has no identity to find it by while the function
    runs, and cannot be updated in place; keep one in a 0-d array to train it).
    ``exclude``: arrays (by identity) to leave out, e.g. running statistics of a model.
    """

    def __init__(self, tree=(), exclude=()):
        if isinstance(tree, (float, complex, np.inexact)):
            raise DifferentiationError(
                f"wg.Params({tree!r}): a number has no identity to find it by while the "
                "function runs, and cannot be updated in place. Keep it in a NumPy array "
                "(a 0-d array is fine), or differentiate it explicitly: wg.gradient(f, x).")
        excluded = {id(a) for a, _ in _tree_leaves(exclude)}
        self._arrays = []
        self._ids = set()
        self._warned = False   # about parameters a gradient did not reach (once)
        for leaf, path in _tree_leaves(tree):
            if _is_parameter(leaf) and id(leaf) not in self._ids and id(leaf) not in excluded:
                self._ids.add(id(leaf))
                self._arrays.append(leaf)

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self):
        return len(self._arrays)

    def __contains__(self, array):
        return id(array) in self._ids

    def __repr__(self):
        return f"Params({len(self)} arrays: {[np.shape(p) for p in self._arrays]})"


def _is_array(x):
    """An array of NumPy (0-d included) or of another registered library (Dask's)."""
    return isinstance(x, np.ndarray) or record_of(x) is not None and not isinstance(
        x, np.generic)


def _is_parameter(leaf):
    """An inexact array (0-d included), or a tracer of one (Params built inside ``f``)."""
    if _is_array(leaf):
        return leaf.dtype.kind in "fc"
    return isinstance(leaf, Tracer) and _is_array(primal(leaf)) and (
        primal(leaf).dtype.kind in "fc")


def _tree_leaves(tree):
    """``(leaf, path)`` for every leaf of ``tree``, depth first, in the order ``wg.tree``
    flattens; iterative, so any depth works, and each container is entered once."""
    stack = [(tree, "")]
    entered = set()
    while stack:
        node, path = stack.pop()
        children = _tree_children(node, path)
        if children is None:
            yield node, path
        elif id(node) not in entered:
            entered.add(id(node))
            stack.extend(reversed(children))


def _tree_children(node, path):
    """``[(child, path)]`` of a container, or None for a leaf."""
    if isinstance(node, (np.ndarray, Tracer, str, bytes)) or _is_array(node):
        return None
    if isinstance(node, Params):
        return [(p, f"{path}[{i}]") for i, p in enumerate(node)]
    if isinstance(node, dict):
        return [(v, f"{path}[{k!r}]") for k, v in node.items()]
    if isinstance(node, tuple) and hasattr(type(node), "_fields"):
        return [(getattr(node, n), f"{path}.{n}") for n in node._fields]
    if isinstance(node, (list, tuple)):
        return [(v, f"{path}[{i}]") for i, v in enumerate(node)]
    if type(node) in _registered:
        return [(c, f"{path}.<{i}>") for i, c in enumerate(_registered[type(node)][0](node)[0])]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return [(getattr(node, f.name), f"{path}.{f.name}") for f in dataclasses.fields(node)]
    cls = type(node)
    if cls.__flags__ & _HEAP_TYPE and cls.__module__.partition(".")[0] not in _LIBRARIES:
        return [(v, f"{path}.{k}") for k, v in _attributes(node)]     # a model object
    return None


class Grads:
    """Gradients of ``Params``: ``gs[p]`` by the identity of ``p``; iterates ``(p, g)``.

    ``+`` and ``-`` combine two ``Grads`` parameter by parameter, ``*`` and ``/`` scale by a
    number.
    """

    def __init__(self, params, grads, aliases=None):
        self._params = list(params)
        self._grads = {id(p): g for p, g in zip(self._params, grads)}
        # id of an object standing in for a parameter (the tracer that holds its place in an
        # enclosing gradient) -> (that object, the parameter): held, so the id stays unique.
        self._aliases = dict(aliases or {})

    def __getitem__(self, array):
        key = id(array)
        if key not in self._grads:
            key = id(self._aliases.get(key, (None, None))[1])
        try:
            return self._grads[key]
        except KeyError:
            raise KeyError(
                "that array is not one of these Params (gs[p] looks a parameter up by "
                "identity: pass the very array object given to wg.Params)"
            ) from None

    def __contains__(self, array):
        return id(array) in self._grads or id(array) in self._aliases

    def __iter__(self):
        return ((p, self._grads[id(p)]) for p in self._params)

    def __len__(self):
        return len(self._params)

    @property
    def params(self):
        return Params(self._params)

    def _combine(self, other, op):
        if isinstance(other, Grads):
            return Grads(self._params, [op(g, other[p]) for p, g in self],
                         self._aliases)
        return NotImplemented

    def __add__(self, other):
        return self._combine(other, np.add)

    def __sub__(self, other):
        return self._combine(other, np.subtract)

    def __mul__(self, scale):
        if isinstance(scale, (Grads, Params)):
            return NotImplemented
        return Grads(self._params, [scale * g for _, g in self], self._aliases)

    __rmul__ = __mul__

    def __truediv__(self, scale):
        if isinstance(scale, (Grads, Params)):
            return NotImplemented
        return Grads(self._params, [g / scale for _, g in self], self._aliases)

    def __neg__(self):
        return self * -1

    def __repr__(self):
        return f"Grads({len(self)} arrays: {[np.shape(g) for _, g in self]})"


def update(ps, gs, step):
    """``p -= step * g`` in place for every parameter of ``ps``; returns ``ps``."""
    for p in ps:
        if not hasattr(p, "__isub__"):   # Dask's arrays: ``-=`` would rebind a local name
            raise DifferentiationError(
                f"wg.update: a {type(p).__module__}.{type(p).__name__} cannot be updated in "
                "place. Compute the new arrays (p - step * gs[p]) and build wg.Params of "
                "them, or use wengert.optim's functional step on a tree of arrays.")
        p -= step * gs[p]
    return ps


# ---------------------------------------------------------------------------------------------
# gradient(f, ..., ps, ...)
# ---------------------------------------------------------------------------------------------

def gradient_with_params(f, args, first_of_tuple=True):
    """``withgradient`` where some of ``args`` are ``Params``: the others are passed to ``f``
    explicitly, and each ``Params`` gets a ``Grads`` in its position. ``first_of_tuple``: as
    for ``reverse_api.withgradient``."""
    explicit = [a for a in args if not isinstance(a, Params)]
    unique, position = [], {}
    for ps in (a for a in args if isinstance(a, Params)):
        for p in ps:
            if id(p) not in position:
                position[id(p)] = len(unique)
                unique.append(p)
    # Inside an enclosing gradient a parameter's references already point to that
    # gradient's tracer: this one differentiates with respect to what is there now.
    stand_ins = [_current_stand_in(p) for p in unique]

    def f_of_everything(explicit_args, param_tracers):
        roots = [f, list(explicit_args)]
        with _Substitution(roots, zip(stand_ins, param_tracers)):
            return roots[0](*roots[1])

    value, (explicit_grads, param_grads), reached = withgradient_and_reach(
        f_of_everything, (explicit, stand_ins), first_of_tuple)
    _warn_if_unreached(args, unique, reached[len(reached) - len(unique):])
    aliases = {id(s): (s, p) for s, p in zip(stand_ins, unique) if s is not p}
    grads, it_explicit = [], iter(explicit_grads)
    for a in args:
        if isinstance(a, Params):
            mine = [param_grads[position[id(p)]] for p in a]
            grads.append(Grads(a, mine, {k: v for k, v in aliases.items() if v[1] in a}))
        else:
            grads.append(next(it_explicit))
    if len(args) == 1:
        return value, grads[0]   # Zygote's style: gradient(f, ps) is the Grads itself
    return value, tuple(grads)


def _warn_if_unreached(args, unique, reached):
    """Warn once per ``Params`` whose arrays a gradient did not reach: the commonest cause is
    a model that rebinds its arrays (``layer.W = layer.W - lr * g``), which leaves the Params
    holding the old ones, whose gradient is then silently zero."""
    missed = {id(p) for p, r in zip(unique, reached) if not r}
    for ps in args:
        if not isinstance(ps, Params) or ps._warned:
            continue
        lost = [p for p in ps if id(p) in missed]
        if lost:
            ps._warned = True
            warnings.warn(
                f"The gradient did not reach {len(lost)} of the {len(ps)} arrays of these "
                f"wg.Params (shapes {[np.shape(p) for p in lost][:5]}): their gradients are "
                "zero. If the model rebinds its arrays (layer.W = layer.W - lr * g), the "
                "Params still hold the old ones: update in place instead (wg.update, "
                "wengert.optim, or W -= lr * g), or build wg.Params(model) again after "
                "rebinding. (Shown once per Params.)", UserWarning, stacklevel=4)


treat_as_opaque(Params, Grads)
