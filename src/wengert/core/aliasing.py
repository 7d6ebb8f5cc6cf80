"""Views of traced arrays, and what a write does to them.

In NumPy ``x[1:3]``, ``x.reshape(...)``, ``x.T`` and friends share memory with ``x``: a write
into one is seen through the other. A tracer is an object of its own, so wengert follows
that sharing explicitly, and only where it matters:

- a view made by basic indexing remembers its base and index, so that a write into the
  view is also written into the base (``x[0][1] = v`` and ``x[1:3] += v`` work);
- a view made any other way (reshape, transpose, ...) refuses writes, naming the way out;
- a write into a base makes every view taken from it earlier *stale*: its class is swapped
  for one whose every operation raises, naming the write. An old view would otherwise keep
  the values from before the write, a silently wrong number.

Only tracers that take part in aliasing carry a ``Lineage``; the others pay nothing.
"""
import sys
import weakref

import numpy as np

from ..errors import DifferentiationError
from .levels import Tracer

_read = object.__getattribute__   # a stale tracer refuses every ordinary attribute read


class Lineage:
    """Where a traced view comes from (``base``, the basic ``index`` it read, or None for the
    other view functions, named by ``how``) and the views taken from it (weak references).
    A view by indexing is named from its index only when a message needs it: views are
    made in loops, messages are rare."""

    __slots__ = ("base", "index", "how", "views", "prune_at")

    def __init__(self, base, index, how):
        self.base = base
        self.index = index
        self.how = how
        self.views = None   # most views are never viewed themselves: no list until one is


def lineage(x):
    """The lineage of tracer ``x``, or None for a tracer with no part in aliasing."""
    return getattr(x, "_lineage", None)   # a stale tracer answers this one attribute


def fields(cls):
    """The slots a tracer of class ``cls`` keeps its value and place in (not its lineage)."""
    found = _FIELDS.get(cls)
    if found is None:
        names = []
        for klass in cls.__mro__:
            names.extend(n for n in getattr(klass, "__slots__", ()) if n not in names)
        found = _FIELDS[cls] = tuple(n for n in names if n not in ("_lineage", "__weakref__"))
    return found


_FIELDS = {}


def kept(x):
    """A tracer that the program holds, as the engine keeps it (as a constant of an inner
    level's tape, as the value of an inner input): a new object with the same fields, so
    that a later write into the program's object (which replaces its fields) cannot change
    what the engine kept. O(1): the arrays are shared, and a write changes an array in
    place only where nothing but one tracer refers to it (``held_alone``), which a kept
    copy rules out. Anything else as it is."""
    if not isinstance(x, Tracer):
        return x
    cls = type(x)
    copy = _new(cls)
    for name in fields(cls):
        setattr(copy, name, getattr(x, name))   # a stale tracer raises here
    return copy


_new = object.__new__


def held_alone(x):
    """Whether every array the tracer ``x`` holds (its value; its tangent in forward mode) is
    a plain NumPy array owning its memory that nothing else refers to: no other tracer, no
    view, no saved value of the tape, no caller. Only then may a write change it in place:
    nobody can see the difference. The value must be a NumPy array (not an outer level's
    tracer: nested writes take the copying way)."""
    value = x._value
    # References counted in this frame (see ALONE), not in a callee's; an array that owns its
    # memory (base None) is no view of np.broadcast_arrays, whose writeable flag would warn.
    if (type(value) is not np.ndarray or refcount(value) > ALONE or value.base is not None
            or not value.flags.writeable):
        return False
    others = _OTHER_FIELDS.get(type(x))
    if others is None:
        others = _OTHER_FIELDS[type(x)] = tuple(
            n for n in fields(type(x)) if n not in ("_value", "_level"))
    for name in others:
        held = getattr(x, name)
        if type(held) is np.ndarray and (refcount(held) > ALONE or held.base is not None
                                         or not held.flags.writeable):
            return False
    return True


_OTHER_FIELDS = {}


# How many references an array has when only one slot (or local variable) holds it and a
# local variable refers to it: the two, and the argument of getrefcount, counted in the frame
# of that local (passing the array on to a Python function adds one reference in Python 3.10,
# none from 3.11 on). CPython 3.14 may borrow references for locals and count fewer, which
# would make a shared array look unshared: there nothing counts as held alone (-1 never
# holds).
refcount = sys.getrefcount if hasattr(sys, "getrefcount") else (lambda _: 1 << 30)
_COUNTED = sys.version_info < (3, 14) and sys.implementation.name == "cpython"
UNSHARED = 2 if _COUNTED else -1     # a local variable alone
ALONE = 3 if _COUNTED else -1        # one slot and the local that reads it


def register_view(base, view, how, index=None):
    """Record that ``view`` (a tracer, or a list or tuple of them) shares memory with the
    tracer ``base`` in NumPy, made by ``how`` (and ``index`` for basic indexing)."""
    if type(view) in (list, tuple):
        for item in view:
            register_view(base, item, how)
        return
    if view is base or not isinstance(view, Tracer):
        return
    view._lineage = Lineage(base, index, how)
    family = lineage(base)
    if family is None:
        family = base._lineage = Lineage(None, None, None)
    views = family.views
    if views is None:
        views = family.views = []
        family.prune_at = 8
    views.append(weakref.ref(view))
    if len(views) > family.prune_at:
        # Views read in a loop die young: drop their references so the list stays short.
        family.views = [ref for ref in views if ref() is not None]
        family.prune_at = 2 * len(family.views) + 8


def after_write(x, write, keep=None):
    """``x`` was written (``write`` names how): every view taken from it earlier, except
    ``keep`` (the view the write came through, which holds the new values), goes stale."""
    family = lineage(x)
    if family is None or not family.views:
        return
    kept = []
    for ref in family.views:
        view = ref()
        if view is None:
            continue
        if view is keep:
            kept.append(ref)
        else:
            make_stale(view, write)
    family.views = kept


def make_stale(view, write):
    """Swap ``view``'s class for the stale one of its kind, and do the same to the views
    taken from it. Its value is replaced by the reason, which every operation raises."""
    family = lineage(view)
    how = "a view" if family is None else family.how or f"x[{_index_text(family.index)}]"
    view.__class__ = _stale_class(type(view))
    view._value = _Staleness(how, write)
    if family is not None and family.views:
        for ref in family.views:
            inner = ref()
            if inner is not None and not isinstance(inner, _Stale):
                make_stale(inner, write)
        family.views = None


class _Staleness:
    __slots__ = ("how", "write")

    def __init__(self, how, write):
        self.how = how
        self.write = write

    def message(self):
        return (
            f"This traced array was made by {self.how} of another traced array, which was "
            f"written afterwards ({self.write}). In NumPy the two share memory, so this array "
            "would now hold the new values; wengert's copy of it holds the old ones, so it "
            "refuses to be used. Take the view again after the write, or take a .copy() "
            "before the write if the old values are what you want."
        )


def _stale_error(self):
    return DifferentiationError(_read(self, "_value").message())


def _refuse(self, *args, **kwargs):
    raise _stale_error(self)


def _refuse_attribute(self, name):
    if name in ("__class__", "_lineage", "__dict__"):
        return _read(self, name)
    raise _stale_error(self)


def _stale_repr(self):
    return f"<stale traced view: {_read(self, '_value').how} of a since-written array>"


# Dunders that must keep working on a stale object: object machinery, not array behaviour.
_KEPT = {"__init__", "__init_subclass__", "__new__", "__class__", "__setattr__",
         "__delattr__", "__getattribute__", "__repr__", "__sizeof__", "__subclasshook__",
         "__reduce__", "__reduce_ex__", "__dir__", "__weakref__"}
_stale_classes = {}


class _Stale:
    """The mark of every stale class (adds no slot: the layout stays the tracer's)."""

    __slots__ = ()


def _stale_class(cls):
    """The stale twin of tracer class ``cls``: the same layout (so ``__class__`` may be
    swapped), every method, operator, protocol and attribute refusing."""
    found = _stale_classes.get(cls)
    if found is not None:
        return found
    namespace = {"__slots__": (), "__getattribute__": _refuse_attribute,
                 "__repr__": _stale_repr, "__str__": _stale_repr}
    for klass in cls.__mro__:
        if klass is object:
            continue
        for name, value in vars(klass).items():
            if (name.startswith("__") and name.endswith("__") and callable(value)
                    and name not in _KEPT and name not in namespace):
                namespace[name] = _refuse
    found = _stale_classes[cls] = type("Stale" + cls.__name__, (cls, _Stale), namespace)
    return found


def refuse_if_stale(x):
    if isinstance(x, _Stale):
        raise _stale_error(x)


def _index_text(index):
    items = index if type(index) is tuple else (index,)
    return ", ".join("..." if i is Ellipsis else "None" if i is None else
                     _slice_text(i) if type(i) is slice else str(i) for i in items)


def _slice_text(s):
    text = ("" if s.start is None else str(s.start)) + ":" + ("" if s.stop is None else str(s.stop))
    return text if s.step is None else f"{text}:{s.step}"


def view_write_error(how):
    return DifferentiationError(
        f"Writing into a traced array made by {how}: in NumPy it shares memory with the "
        "array it was made from, so the write would change that array too, which wengert "
        "cannot follow through this operation. Write into the original array instead (with "
        "the index that reaches the same elements), or take a .copy() of the view first to "
        "write into it independently."
    )
