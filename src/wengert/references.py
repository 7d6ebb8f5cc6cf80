"""The references one object holds, for the walk in ``reach.py``: which objects are worth
entering (user code, not libraries), the places that hold a child (cells, globals, items,
attributes), and how to read one, point it elsewhere and back."""
import functools
import os
import sys
import sysconfig
import types

import numpy as np

from .arraytypes import StagedValue
from .core.levels import Level, Tracer

# Objects that never hold references worth following.
ATOMIC = (str, bytes, int, float, complex, bool, type(None), np.ndarray, np.generic,
          np.ufunc, np.dtype, types.BuiltinFunctionType, types.CodeType, types.ModuleType,
          Tracer, Level, range, slice, type(Ellipsis))


def treat_as_opaque(*classes):
    """Never walk into instances of ``classes`` (the Params and Grads holding the originals)."""
    global ATOMIC
    ATOMIC = ATOMIC + classes


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


# --- the places that hold a child: how to read one, point it elsewhere, and back --------------
# An edge is ``(child, kind, holder, key)``: ``holder`` holds ``child`` under ``key`` in the way
# ``kind`` names; kind None marks a child that is only entered (its own contents may change).

_MISSING = object()


def read(kind, holder, key):
    """What the place holds now (``_MISSING`` where it holds nothing)."""
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
    if read(kind, holder, key) is not old:
        return None
    _write(kind, holder, key, new)

    def undo():
        # Put ``old`` back unless f stored a value of its own there that is not a tracer.
        now = read(kind, holder, key)
        if now is new or now is _MISSING or isinstance(now, (Tracer, StagedValue)):
            _write(kind, holder, key, old)
        elif kind == "list":       # f moved items around: find the replacement by identity
            for i, item in enumerate(holder):
                if item is new:
                    list.__setitem__(holder, i, old)
    return undo


def holds(kind, holder, key, child):
    """Whether the place still holds ``child`` (a Python number: or one equal to it)."""
    now = read(kind, holder, key)
    return now is child or (type(now) is type(child) and type(child) in _NUMBERS
                            and now == child)


_NUMBERS = (int, float, complex, bool, str)


# --- edges: the children of one object ---------------------------------------------------------

def _edges(obj):
    if isinstance(obj, ATOMIC):
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
