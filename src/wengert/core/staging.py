"""The staging level: tracers that record every NumPy call as one line of a program.

``wg.compile`` opens it outermost, so every call that reaches it — the user's function, the
rules' forward code, every pullback and pushforward of the walk — is recorded, in order, as
a line ``ref = fn(*args, **kwargs)`` of a Wengert list. A staging tracer also carries its
concrete value: tracing is one eager run, and shapes, dtypes and the decisions the run took
are read from real numbers.

A staging tracer is, to every other level, an *array type* (it has a record in
``arraytypes``, like NumPy's) and not a ``TracedValue``: ``concrete()`` stops at it. So the
engine's own reads of values — a NaN check, a mask, ``bool()`` of a comparison — reach the
staging tracer's protocols and are recorded (a comparison is a line; ``bool()``, ``float()``,
``int()`` are *guards*: the emitted program checks that the same decision holds, or retraces).

The arrays the traced function reaches stand in as staged values while it runs (see
``wg.compile``); those that are not staged (constants the function made, an array it reaches
only through wengert's own objects) enter lines as constants. One that existed before
tracing began (``external``) is referred to by identity,
so that the emitted program sees later in-place changes; any other is copied where it enters
a line, so that a buffer the function refills while tracing keeps each value it had.
"""
import operator
import threading

import numpy as np

from ..errors import DifferentiationError
from ..tangents import NO_TANGENT, ZERO, to_dense
from .levels import Level, Tracer
from .program import DRAW, Guard, Line, Ref
from .staged import (METADATA, STAGING as _STAGING, Opaque as _Opaque, StagingTracer,
                     concrete_tree as _concrete_tree, staged_class, tracing,
                     unsupported as _unsupported)

# Functions that write into one of their arguments.
WRITERS = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, operator.setitem}

_STAGED_SCALARS = (bool, int, float, complex, np.generic)


class StagingLevel(Level):
    """Records a program while the function runs on concrete values."""

    __slots__ = ("lines", "inputs", "external", "written", "snapshots", "ambient", "_count",
                 "in_line", "thread")
    records_everything = True

    def __init__(self, external=()):
        super().__init__(None)
        self.lines = []
        self.inputs = []
        self.external = {id(a): a for a in external}
        self.written = {}   # id of a plain array a line wrote into -> (array, its Ref)
        self.snapshots = {}   # id of a plain array -> (array, its latest copy)
        self.ambient = np.geterr()   # the caller's floating-point error handling
        self._count = 0
        self.in_line = False   # while a line's function runs (see ``_run``)
        self.thread = threading.get_ident()

    def _ref(self, kind="t"):
        self._count += 1
        return Ref(self._count, kind)

    def new_input(self, value, name=None):
        ref = self._ref("x")
        ref.name = name
        self.inputs.append(ref)
        return self.wrap(value, ref)

    def wrap(self, value, ref):
        return staged_class(value)(value, self, ref)

    # -- recording ----------------------------------------------------------------------------
    def process(self, fn, args, kwargs, effect=False):
        if fn in METADATA or self.plain():
            return fn(*_concrete_tree(args), **_concrete_tree(kwargs))
        writes = effect is True or fn in WRITERS or (
            kwargs.get("out") is not None if kwargs else False)
        if writes:
            self._stage_targets(args, kwargs)
        template_args = self._template(args)
        template_kwargs = self._template(kwargs)
        out = self._run(fn, args, kwargs)
        effect = effect or writes or out is None
        ref = self._ref()
        constant = not effect and not _has_ref(template_args) and not _has_ref(template_kwargs)
        errors = np.geterr()
        self.lines.append(Line(fn, template_args, template_kwargs, ref, effect,
                               _viewed(out, args), out if constant else None,
                               _fresh(fn, out, args), None if errors == self.ambient else errors,
                               _meta(out)))
        staged = self._outputs(fn, out, ref, args)
        if _shaped_by_values(fn, args):   # the shapes later lines were traced with
            for item in (staged if isinstance(staged, (tuple, list)) else (staged,)):
                if type(item) in _STAGING:
                    self.lines.append(Guard(item._ref, "shape", np.shape(item._value)))
        return staged

    def plain(self):
        """Whether staged values are their plain arrays here: inside a line's own call, or
        in another thread (which reads the arrays the traced function closes over while
        their references point to staged values)."""
        return self.in_line or threading.get_ident() != self.thread

    def _run(self, fn, args, kwargs):
        """``fn`` on the concrete values, as the program's line will call it. Staged values
        that ``fn`` reaches by itself (an array it closes over, which stands in for the
        array while tracing) are their plain arrays inside, and out: the line is one call."""
        self.in_line = True
        try:
            return _concrete_tree(fn(*_concrete_tree(args), **_concrete_tree(kwargs)))
        finally:
            self.in_line = False

    def _stage_targets(self, args, kwargs):
        """A plain array the function made that a line updates in place with staged values
        (``acc += x``: the line's first argument and its ``out=``) becomes a staged buffer of
        its own (a fresh copy per run of the program), read by every later line in its
        place and handed back as the call's result (see ``buffer``), which ``+=`` binds.
        Written in another way (``np.sin(x, out=buf)``, ``np.copyto``), the plain array
        stays the function's, whose NumPy calls on it alone would be no lines: refused. One
        that existed before tracing is written into, as the function does."""
        out = kwargs.get("out") if kwargs else None
        targets = args[:1] if out is None else list(out) if type(out) is tuple else [out]
        for target in targets:
            if type(target) is not np.ndarray or self._is_external(target):
                continue
            if out is None or not args or target is not args[0]:
                raise _unsupported(None, (
                    "it writes traced values into an array the function made itself, such as "
                    "np.zeros(n), on which a NumPy call that reads no traced value would not "
                    "be seen by the program. Make the array from a traced one "
                    "(np.zeros_like(x), np.zeros(n, like=x)), update it in place "
                    "(buf += ...), or use the call's result (y = np.sin(x))"))
            if id(target) not in self.written:
                ref = self._ref()
                self.lines.append(Line(np.array, (target.copy(),), {}, ref))
                self.written[id(target)] = (target, ref)

    def buffer(self, x):
        """The staged buffer that the plain array ``x`` became (see ``_stage_targets``), or
        ``x`` itself."""
        written = self.written.get(id(x)) if type(x) is np.ndarray else None
        return self.wrap(x, written[1]) if written is not None and written[0] is x else x

    def _outputs(self, fn, out, ref, args):
        if out is None:
            return None
        if _stageable(out):
            return self.wrap(out, ref)
        if isinstance(out, (tuple, list)):
            items = []
            for position, item in enumerate(out):
                if _stageable(item):
                    item_ref = self._ref()
                    self.lines.append(Line(operator.getitem, (ref, position), {}, item_ref,
                                           view_of=_viewed(item, args)))
                    item = self.wrap(item, item_ref)
                elif not (item is None or item is ZERO or item is NO_TANGENT
                          or isinstance(item, (str, np.dtype))):
                    raise _unsupported(fn, f"one of its results is a {type(item).__name__}")
                items.append(item)
            return type(out)(*items) if hasattr(type(out), "_fields") else type(out)(items)
        raise _unsupported(fn, f"it returned a {type(out).__name__}")

    def _template(self, x):
        """``x`` with staged values replaced by their ``Ref``s and plain arrays made safe to
        keep (see the module's docstring)."""
        kind = type(x)
        if kind in _STAGING or kind is _Opaque:
            if kind is not _Opaque and x._level is not self:
                raise _unsupported(None, "a value traced by another wg.compile reached it")
            return x._ref
        if kind is tuple or kind is list:
            return kind(self._template(v) for v in x)
        if kind is dict:
            return {k: self._template(v) for k, v in x.items()}
        if isinstance(x, np.ndarray):
            written = self.written.get(id(x))
            if written is not None and written[0] is x:
                return written[1]
            return x if self._is_external(x) else self._snapshot(x)
        if isinstance(x, Tracer):
            raise _unsupported(None, "a value of a transformation that is still running "
                                     "reached the compiled program")
        return x

    def _snapshot(self, x):
        """A copy of the plain array ``x`` as it is now; the same copy as last time where
        ``x`` has not changed since (an array made once and read in a loop is kept once)."""
        kept = self.snapshots.get(id(x))
        if kept is not None and kept[0] is x and kept[1].dtype == x.dtype and (
                np.array_equal(kept[1], x, equal_nan=x.dtype.kind in "fc")) and (
                x.dtype.kind not in "fc" or _same_signs(kept[1], x)):
            return kept[1]
        copy = x.copy()
        self.snapshots[id(x)] = (x, copy)
        return copy

    def _is_external(self, x):
        while x is not None:
            if id(x) in self.external:
                return True
            x = x.base if isinstance(x, np.ndarray) else None
        return False

    def guard(self, tracer, kind):
        value = tracer._value
        expected = {"bool": bool, "int": int, "float": float, "complex": complex,
                    "item": _item}[kind](value)
        if not self.plain():
            self.lines.append(Guard(tracer._ref, kind, expected))
        return expected

    def lift(self, array):
        """A plain array as a staged value (the program reads it where a line reads it)."""
        ref = self._ref()
        kept = self._template(array)   # a copy, unless the program refers to the array itself
        self.lines.append(Line(_identity, (kept,), {}, ref))
        return self.wrap(kept if type(kept) is np.ndarray else array, ref)


class StagedGenerator:
    """Stands in for a random generator (``np.random.Generator``, ``RandomState``) that the
    traced function reaches: each draw is a line that the program runs with the generator
    itself, so every call draws anew, in the order the function drew."""

    __slots__ = ("_generator", "_level")

    def __init__(self, generator, level):
        self._generator = generator
        self._level = level

    def __getattr__(self, name):
        if name in ("bit_generator", "_bit_generator"):   # a generator made of it would draw
            raise DifferentiationError(                    # in the trace only
                f"wg.compile: the {name} of a random generator the function reaches is read "
                "while it is traced; a generator made of it would draw the trace's numbers "
                "on every call. Draw from the generator itself (rng.normal(...)).")
        attribute = getattr(self._generator, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        level = self._level

        def draw(*args, **kwargs):
            return level.process(attribute, args, kwargs, effect=DRAW)

        draw.__name__ = name
        return draw


def lift_constant(array):
    """A plain array that a node keeps for the walk, as the staging level refers to it (the
    reverse level copies it outside compile)."""
    return tracing().lift(array)


def _stageable(x):
    """An array (NumPy's, or of another registered library) or a number: a staged value."""
    return isinstance(x, (np.ndarray, *_STAGED_SCALARS)) or staged_class(x) is not StagingTracer


def _has_ref(x):
    kind = type(x)
    if kind is Ref:
        return True
    if kind is tuple or kind is list:
        return any(_has_ref(v) for v in x)
    if kind is dict:
        return any(_has_ref(v) for v in x.values())
    return False


# Functions whose results' shapes depend on the values of their arguments.
_VALUE_SHAPED = {np.nonzero, np.flatnonzero, np.argwhere, np.unique, np.extract, np.compress,
                 np.trim_zeros, np.delete, np.insert, np.repeat}


def _shaped_by_values(fn, args):
    if fn in _VALUE_SHAPED or (fn is np.where and len(args) == 1):
        return any(_has_staged(a) for a in args)
    return fn is operator.getitem and _has_staged(args[1])   # a mask or indices


def _has_staged(x):
    if type(x) in _STAGING:
        return True
    return (type(x) is tuple or type(x) is list) and any(_has_staged(v) for v in x)


def _meta(out):
    if isinstance(out, (np.ndarray, np.generic)):
        return type(out), out.shape, out.dtype
    return None


def _fresh(fn, out, args):
    """``(shape, dtype)`` of ``out`` where it is a new array that owns its memory (the
    program may then write into it once nothing reads it any more), else None. Only NumPy's
    own functions are trusted to return new arrays: a primitive may return one it keeps."""
    if type(out) is not np.ndarray or out.base is not None or not out.flags.writeable:
        return None
    if not (isinstance(fn, np.ufunc) or (getattr(fn, "__module__", None) or "").startswith(
            "numpy")):
        return None
    for a in args:
        if out is (a._value if type(a) in _STAGING else a):
            return None
    return out.shape, out.dtype


def _viewed(out, args):
    """The Ref of the staged argument (or item of a list or tuple argument) whose memory the
    array ``out`` shares, or None."""
    if type(out) is not np.ndarray:
        return None
    for a in args:
        for b in (a if type(a) is tuple or type(a) is list else (a,)):
            if type(b) in _STAGING and isinstance(b._value, np.ndarray) and (
                    out is b._value or np.may_share_memory(out, b._value)):
                return b._ref
    return None


# Functions whose reverse rules take faster ways on concrete arrays than on staged ones (a
# Cholesky factor known by identity, LAPACK factors kept for the pullback): under a staging
# level their rule runs whole, as one line, on the program's arrays; its pullback is called
# as another (the set is filled by wg.compile).
opaque = set()


class OpaqueRule:
    """A rule's forward call as one line: ``(y, pullback)`` of the arrays the program has."""

    def __init__(self, impl, parents, name):
        self.impl = impl
        self.parents = parents
        self.__name__ = f"{name}_rule"

    def __call__(self, *primals, **kwargs):
        return self.impl(self.parents, *primals, **kwargs)


def _pull_back(forward, ct, kept):
    """The cotangents of a rule called whole (``forward`` is its ``(y, pullback)``), made
    dense: the program passes arrays along. ``kept``: the arrays the rule was called on,
    which its pullback may read (named in the line so that no pass writes into them
    before it runs)."""
    return tuple(to_dense(g) for g in forward[1](ct))


def opaque_rule(impl, parents, primals, kwargs, name):
    """``(y, pullback)`` of a rule called whole by the program (see ``opaque``)."""
    level = tracing()
    call = OpaqueRule(impl, parents, name)
    ref = level._ref()
    level.lines.append(Line(call, level._template(tuple(primals)), level._template(kwargs), ref))
    y, pullback = call(*_concrete_tree(primals), **_concrete_tree(kwargs))
    if type(y) is not np.ndarray:
        raise _unsupported(call, "its rule returned no single array")
    y_ref = level._ref()
    level.lines.append(Line(operator.getitem, (ref, 0), {}, y_ref))
    forward = level.wrap(y, y_ref)

    def staged_pullback(ct):
        grads = level.process(_pull_back, (_Opaque((y, pullback), ref), ct, primals), {})
        return grads

    return forward, staged_pullback


def _same_signs(a, b):
    """Whether the equal arrays ``a`` and ``b`` have their zeros of the same signs."""
    return np.array_equal(np.signbit(a.real), np.signbit(b.real)) and (
        a.dtype.kind != "c" or np.array_equal(np.signbit(a.imag), np.signbit(b.imag)))


def _item(value):
    return value.item() if hasattr(value, "item") else value


def _identity(x):
    return x


