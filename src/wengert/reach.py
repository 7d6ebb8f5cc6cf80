"""What a function can reach, and pointing those references elsewhere while it runs.

``gradient(f, ps)`` needs every reference ``f`` can reach to a parameter array to point to
that array's tracer while ``f`` runs, and back afterwards: closure cells, the globals its
code names, lists, dicts, tuples, object attributes, classes, the functions and methods it
refers to. ``_Substitution`` walks those edges without recursion and undoes each change,
newest first, also when ``f`` raises. ``wg.checkpoint`` uses the same walk to find the
tracers a function closes over.
"""
from .core.levels import Tracer
from .errors import DifferentiationError
from . import references
from .references import _edges, _point


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
    found = reachable(f, lambda x: isinstance(x, Tracer) and x._level.active)
    return [(t, _stood_for(t)[1:]) for t in found]


def places_read(root):
    """Every place on the references reachable from ``root`` that may be pointed elsewhere
    (a closure cell, a global, an item, an attribute), with what it holds now: ``wg.compile``
    checks them before each run, so that rebinding what the function reads traces again
    rather than run the old program. (Not the sizes of lists and dicts: a function that
    logs into a list would trace again on every call.)"""
    return [(kind, holder, key, child) for child, kind, holder, key in _walk(root)
            if kind is not None]


def all_held(places):
    """Whether every place of ``places_read`` still holds what it held."""
    for kind, holder, key, child in places:
        if kind == "item" and _dict_get(holder, key, _ABSENT) is child:   # the commonest
            continue
        if not references.holds(kind, holder, key, child):
            return False
    return True


_dict_get = dict.get
_ABSENT = object()


def which_held(places):
    return [references.holds(*place) for place in places]


def moved_on(places, held):
    """``places`` where those that ``held`` (before a trace) and no longer hold now take what
    they hold now: the traced function changed them itself (a list it appends to), which no
    run of a program does again."""
    return [place if not was or references.holds(*place) else _now(*place)
            for place, was in zip(places, held)]


def _now(kind, holder, key, child):
    return kind, holder, key, references.read(kind, holder, key)


def reachable(root, wanted):
    """The objects ``wanted`` accepts among those reachable from ``root``, each once, along
    the references ``_Substitution`` points elsewhere (``wg.compile`` finds the arrays and
    random generators a function reaches so)."""
    found = {}
    for child, *_ in _walk(root, wanted):
        if wanted(child):
            found.setdefault(id(child), child)
    return list(found.values())


def _walk(root, stop=None):
    """Every edge ``(child, kind, holder, key)`` of the objects reachable from ``root``,
    entering each object once, without recursion; a child ``stop`` accepts is not entered."""
    entered, stack = set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in entered:
            continue
        entered.add(id(obj))
        for edge in _edges(obj):
            yield edge
            child = edge[0]
            if not isinstance(child, references.ATOMIC) and not (stop and stop(child)):
                stack.append(child)


def call_substituted(f, pairs, args):
    """``f(*args)`` while every reference ``f`` can reach to the first object of each pair
    points to the second (see ``_Substitution``)."""
    roots = [f]
    with _Substitution(roots, pairs):
        return f(*args)


# ---------------------------------------------------------------------------------------------
# Finding the parameters wherever f can reach them
# ---------------------------------------------------------------------------------------------


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
                     if id(edge[0]) in replacements or not isinstance(edge[0], references.ATOMIC)]
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
