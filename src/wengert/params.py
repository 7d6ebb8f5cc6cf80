"""Implicit parameters, as in Zygote: ``Params`` names arrays by identity, ``gradient(f, ps)``
returns ``Grads`` keyed by those same arrays.

NumPy operations on a plain ndarray never reach wengert, so while ``f`` runs each parameter
is replaced by its tracer wherever ``f`` can reach it — closure cells, the globals its code
names (and the names it reads from modules), lists, dicts, tuples, object attributes, the
classes of those objects, the functions and methods it refers to — and every reference is
put back afterwards, also when ``f`` raises (see ``_Substitution``). docs/params.md says
what this reaches and what it cannot.
"""
import dataclasses
import functools
import os
import sys
import sysconfig
import types

import numpy as np

from .core.levels import Level, Tracer, primal
from .errors import DifferentiationError
from .tree import _registered


# ---------------------------------------------------------------------------------------------
# Params and Grads
# ---------------------------------------------------------------------------------------------

class Params:
    """The arrays to differentiate with respect to, remembered by identity.

    ``Params([W, b])``, or ``Params(tree)`` for every inexact array leaf of a nested list,
    tuple, dict, dataclass, registered tree or plain object. Integer and boolean arrays,
    strings and other non-numbers are not parameters and are skipped; a Python or NumPy
    float is refused (it has no identity to find it by, and cannot be updated in place).
    """

    def __init__(self, tree=()):
        self._arrays = []
        self._ids = set()
        for leaf, path in _tree_leaves(tree):
            self._add(leaf, path)

    def _add(self, leaf, path):
        if _is_parameter(leaf):
            if id(leaf) not in self._ids:
                self._ids.add(id(leaf))
                self._arrays.append(leaf)
        elif isinstance(leaf, (float, complex, np.inexact)):
            raise DifferentiationError(
                f"wg.Params cannot hold the number {leaf!r}{_where(path)}: a number has no "
                "identity to find it by while the function runs, and cannot be updated in "
                "place. Keep it in a NumPy array (np.array(x), a 0-d array is fine), or "
                "differentiate it explicitly: wg.gradient(f, x)."
            )

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self):
        return len(self._arrays)

    def __contains__(self, array):
        return id(array) in self._ids

    def __repr__(self):
        return f"Params({len(self)} arrays: {[np.shape(p) for p in self._arrays]})"


def _is_parameter(leaf):
    """An inexact ndarray (0-d included), or a tracer of one (Params built inside ``f``)."""
    if isinstance(leaf, np.ndarray):
        return leaf.dtype.kind in "fc"
    return isinstance(leaf, Tracer) and isinstance(primal(leaf), np.ndarray) and (
        primal(leaf).dtype.kind in "fc")


def _where(path):
    return f" at {path}" if path else ""


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
    if isinstance(node, (np.ndarray, Tracer, str, bytes)):
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

    ``+`` and ``-`` combine two ``Grads`` parameter by parameter, ``*`` scales by a number.
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

    def __neg__(self):
        return self * -1

    def __repr__(self):
        return f"Grads({len(self)} arrays: {[np.shape(g) for _, g in self]})"


def update(ps, gs, step):
    """``p -= step * g`` in place for every parameter of ``ps``; returns ``ps``."""
    for p in ps:
        p -= step * gs[p]
    return ps


# ---------------------------------------------------------------------------------------------
# gradient(f, ..., ps, ...)
# ---------------------------------------------------------------------------------------------

def gradient_with_params(f, args):
    """``withgradient`` where some of ``args`` are ``Params``: the others are passed to ``f``
    explicitly, and each ``Params`` gets a ``Grads`` in its position."""
    from .api import withgradient

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

    value, (explicit_grads, param_grads) = withgradient(f_of_everything, explicit, stand_ins)
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


# Substitutions in effect, outermost first (one per running gradient(f, ps)).
_active = []


def _current_stand_in(p):
    for substitution in _active:
        p = substitution.replacements.get(id(p), p)
    return p


def _stood_for(x):
    """``x`` and every object it holds the place of in the substitutions in effect (the
    array a tracer replaced, the tracer that one replaced in turn, ...)."""
    chain = [x]
    for substitution in reversed(_active):
        for original, replacement in substitution.pairs:
            if replacement is chain[-1]:
                chain.append(original)
                break
    return chain


def reachable_tracers(f):
    """The tracers of running transformations that ``f`` can reach now (its closure, the
    globals it reads, the objects those hold: the walk ``gradient(f, ps)`` substitutes
    along), each as ``(tracer, [objects it holds the place of])``. Lets ``wg.checkpoint``
    turn what ``f`` closes over into explicit inputs."""
    found, entered, stack = {}, set(), [f]
    while stack:
        obj = stack.pop()
        if id(obj) in entered:
            continue
        entered.add(id(obj))
        for child, *_ in _edges(obj):
            if isinstance(child, Tracer):
                if child._level.active and id(child) not in found:
                    found[id(child)] = child
            elif not isinstance(child, _ATOMIC):
                stack.append(child)
    return [(t, _stood_for(t)[1:]) for t in found.values()]


def call_substituted(f, pairs, args):
    """``f(*args)`` while every reference ``f`` can reach to the first object of each pair
    points to the second (see ``_Substitution``)."""
    roots = [f]
    with _Substitution(roots, pairs):
        return f(*args)


# ---------------------------------------------------------------------------------------------
# Finding the parameters wherever f can reach them
# ---------------------------------------------------------------------------------------------

# Objects that never hold references worth following.
_ATOMIC = (str, bytes, int, float, complex, bool, type(None), np.ndarray, np.generic,
           np.ufunc, np.dtype, types.BuiltinFunctionType, types.CodeType, types.ModuleType,
           Tracer, Level, Params, Grads, range, slice, type(Ellipsis))

# Code whose functions' globals and whose classes cannot hold a user's parameters: NumPy,
# SciPy, wengert, the standard library and every installed package. Following it would only
# cost time (a method of a pandas object leads into all of pandas). Library functions'
# closures are still followed (a decorator's wrapper closes over the user's function), and
# so are the attributes of library objects (a user's arrays may sit in one).
_LIBRARIES = frozenset(getattr(sys, "stdlib_module_names", ())) | {
    "numpy", "scipy", "wengert", "builtins"}
_LIBRARY_DIRECTORIES = tuple(os.path.join(os.path.realpath(path), "") for path in {
    sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")})

_HEAP_TYPE = 1 << 9     # Py_TPFLAGS_HEAPTYPE: a class made by a class statement


@functools.lru_cache(maxsize=1024)
def _is_library(module_name):
    if not module_name:
        return False
    if module_name.partition(".")[0] in _LIBRARIES:
        return True
    path = getattr(sys.modules.get(module_name), "__file__", None)
    return bool(path) and os.path.realpath(path).startswith(_LIBRARY_DIRECTORIES)


def _is_user_class(cls):
    return bool(cls.__flags__ & _HEAP_TYPE) and not _is_library(cls.__module__)


def _attributes(obj):
    """``(name, value)`` of an object's instance dict and slots."""
    found = list(getattr(obj, "__dict__", {}).items()) if _has_dict(obj) else []
    for cls in type(obj).__mro__:
        for name in _slot_names(cls):
            if hasattr(obj, name):
                found.append((name, getattr(obj, name)))
    return found


def _has_dict(obj):
    try:
        return isinstance(object.__getattribute__(obj, "__dict__"), dict)
    except AttributeError:
        return False


def _slot_names(cls):
    slots = cls.__dict__.get("__slots__", ())
    slots = (slots,) if isinstance(slots, str) else slots
    return [s for s in slots if isinstance(s, str) and s not in ("__dict__", "__weakref__")]


class _Substitution:
    """While active, every reference reachable from ``roots`` (a list, updated in place) to
    the first object of one of ``pairs`` points to the second instead; leaving puts each one
    back, newest first, also after an exception.

    The walk is iterative (any depth), enters each object once, and keeps every object it
    entered alive while active so that ids stay unique. Tuples cannot be changed in place:
    one holding a replaced object is rebuilt, and its own referrer is pointed at the copy.
    """

    def __init__(self, roots, pairs):
        self.roots = roots
        self.pairs = [(old, new) for old, new in pairs]    # kept: ids stay unique
        self.replacements = {id(old): new for old, new in self.pairs}
        self.undo = []
        self.rebuilt = {}     # id(entered object) -> its copy with replacements, or None
        self.alive = []

    def __enter__(self):
        _active.append(self)
        try:
            self._walk(self.roots)
        except BaseException:
            self._leave()
            raise
        return self

    def __exit__(self, *exc):
        self._leave()
        return False

    def _leave(self):
        _active.remove(self)
        errors = []
        while self.undo:
            try:
                self.undo.pop()()
            except Exception as error:   # noqa: BLE001 - put back everything we can first
                errors.append(error)
        self.alive.clear()
        if errors:
            raise errors[0]

    def _walk(self, root):
        replacements, entered = self.replacements, self.rebuilt
        stack = [root]
        while stack:
            item = stack.pop()
            if type(item) is _Leave:
                self._install(item.obj, item.edges)
                continue
            key = id(item)
            if key in replacements or key in entered:
                continue
            entered[key] = None
            self.alive.append(item)
            # Only the children that are replaced or may hold something replaced matter.
            edges = [edge for edge in _edges(item)
                     if id(edge[0]) in replacements or not isinstance(edge[0], _ATOMIC)]
            if edges:
                stack.append(_Leave(item, edges))
                stack.extend(edge[0] for edge in reversed(edges))

    def _replacement(self, child):
        new = self.replacements.get(id(child))
        return new if new is not None else self.rebuilt.get(id(child))

    def _install(self, obj, edges):
        """Point ``obj``'s references at the replacements of its children (all entered)."""
        if isinstance(obj, tuple):
            items = [self._replacement(child) for child in obj]
            if any(new is not None for new in items):
                items = [new if new is not None else old for new, old in zip(items, obj)]
                self.rebuilt[id(obj)] = _rebuild_tuple(obj, items)
            return
        for child, kind, holder, key in edges:
            new = self._replacement(child)
            if new is not None and kind is not None:
                undo = _point(kind, holder, key, child, new)
                if undo is not None:
                    self.undo.append(undo)


class _Leave:
    """On the walk's stack: every child of ``obj`` has been entered; install now."""

    __slots__ = ("obj", "edges")

    def __init__(self, obj, edges):
        self.obj = obj
        self.edges = edges


def _rebuild_tuple(old, items):
    try:
        if hasattr(type(old), "_fields"):
            return type(old)(*items)
        return type(old)(items)
    except Exception as error:
        raise DifferentiationError(
            f"wg.gradient(f, ps) found a parameter inside a {type(old).__name__} (a tuple "
            f"type) and could not make a copy holding its tracer ({error}). Pass that "
            "parameter explicitly, or keep it in a list or an attribute."
        ) from None


# --- the places that hold a child: how to read one, point it elsewhere, and back --------------
# An edge is ``(child, kind, holder, key)``: ``holder`` holds ``child`` under ``key`` in the way
# ``kind`` names; kind None marks a child that is only entered (its own contents may change).

_MISSING = object()


def _read(kind, holder, key):
    try:
        if kind == "item":                  # the dict's own storage, past any __getitem__
            return dict.get(holder, key, _MISSING)
        if kind == "list":
            return list.__getitem__(holder, key)
        if kind == "cell":
            return holder.cell_contents
        if kind == "partial":
            return holder.args
        return getattr(holder, key)
    except (KeyError, IndexError, ValueError, AttributeError):
        return _MISSING


def _write(kind, holder, key, value):
    if kind == "item":
        dict.__setitem__(holder, key, value)
    elif kind == "list":
        list.__setitem__(holder, key, value)
    elif kind == "cell":
        holder.cell_contents = value
    elif kind == "partial":
        holder.__setstate__((holder.func, value, holder.keywords,
                             getattr(holder, "__dict__", None) or None))
    elif kind == "slot":
        object.__setattr__(holder, key, value)
    else:                       # "attribute": a class attribute, a function's __defaults__
        setattr(holder, key, value)


def _point(kind, holder, key, old, new):
    """Point the place at ``new``; returns the undo, or None where the place no longer holds
    ``old`` (reached twice: a cell shared by two closures)."""
    if _read(kind, holder, key) is not old:
        return None
    _write(kind, holder, key, new)

    def undo():
        # Put ``old`` back unless f stored a value of its own there that is not a tracer.
        now = _read(kind, holder, key)
        if now is new or now is _MISSING or isinstance(now, Tracer):
            _write(kind, holder, key, old)
        elif kind == "list":       # f moved items around: find the replacement by identity
            for i, item in enumerate(holder):
                if item is new:
                    list.__setitem__(holder, i, old)
    return undo


# --- edges: the children of one object ---------------------------------------------------------

def _edges(obj):
    if isinstance(obj, _ATOMIC):
        return ()
    if isinstance(obj, list):
        return [(item, "list", obj, i) for i, item in enumerate(obj)]
    if isinstance(obj, dict):
        return [(value, "item", obj, key) for key, value in list(obj.items())]
    if isinstance(obj, tuple):
        return [(item, None, None, None) for item in obj]
    if isinstance(obj, types.FunctionType):
        return _function_edges(obj)
    if isinstance(obj, types.MethodType):
        return _entered(obj.__self__, obj.__func__)
    if isinstance(obj, functools.partial):
        return _entered(obj.func, obj.keywords) + [(obj.args, "partial", obj, None)]
    if isinstance(obj, (staticmethod, classmethod)):
        return _entered(obj.__func__)
    if isinstance(obj, property):
        return _entered(*(fn for fn in (obj.fget, obj.fset, obj.fdel) if fn is not None))
    if isinstance(obj, type):
        return _class_edges(obj) if _is_user_class(obj) else ()
    if (getattr(type(obj), "__module__", None) or "").partition(".")[0] == "wengert":
        return ()                   # wengert's own objects: levels, tangents, rules
    return _object_edges(obj)


def _entered(*children):
    return [(child, None, None, None) for child in children]


def _function_edges(fn):
    edges = []
    for cell in fn.__closure__ or ():
        try:
            edges.append((cell.cell_contents, "cell", cell, None))
        except ValueError:          # an empty cell: a name not bound yet
            pass
    wrapped = getattr(fn, "__wrapped__", None)
    if wrapped is not None:
        edges.append((wrapped, None, None, None))
    if _is_library(fn.__module__):
        return edges                # a decorator's wrapper: its closure is the user's
    edges.extend(_global_edges(fn.__globals__, _global_names(fn.__code__)))
    if fn.__defaults__:
        edges.append((fn.__defaults__, "attribute", fn, "__defaults__"))
    if fn.__kwdefaults__:
        edges.append((fn.__kwdefaults__, None, None, None))
    return edges


def _global_edges(namespace, names):
    """The globals ``names`` reads in ``namespace``; for a module among them (``import
    model`` … ``model.W``), the names the code reads from it, and so on down submodules."""
    edges = []
    spaces, seen = [namespace], set()
    while spaces:
        space = spaces.pop()
        if id(space) in seen:
            continue
        seen.add(id(space))
        for name in names:
            value = space.get(name, _MISSING)
            if value is _MISSING:
                continue
            if isinstance(value, types.ModuleType):
                if not _is_library(value.__name__):
                    spaces.append(value.__dict__)
            else:
                edges.append((value, "item", space, name))
    return edges


def _class_edges(cls):
    edges = _entered(*cls.__bases__)
    for name, value in list(vars(cls).items()):
        if name.startswith("__") and name.endswith("__") and not callable(value):
            continue                # __module__, __doc__, the __dict__ descriptor, ...
        if isinstance(value, (staticmethod, classmethod, property)):
            edges.append((value, None, None, None))
        else:
            edges.append((value, "attribute", cls, name))
    return edges


def _object_edges(obj):
    edges = []
    if _has_dict(obj):
        edges.append((object.__getattribute__(obj, "__dict__"), None, None, None))
    cls = type(obj)
    for klass in cls.__mro__:
        for name in _slot_names(klass):
            value = getattr(obj, name, _MISSING)
            if value is not _MISSING:
                edges.append((value, "slot", obj, name))
    if _is_user_class(cls):
        edges.append((cls, None, None, None))
    return edges


@functools.lru_cache(maxsize=4096)
def _global_names(code):
    """The names a code object and the code nested in it (lambdas, comprehensions) may read
    as globals or as attributes."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return frozenset(names)
