"""A pruned Wengert list as Python source: one NumPy call a line.

``emit`` writes the lines as a Python function of the array inputs, with the functions and
the constants it calls held in a namespace (NumPy's by their public names), so that the
source reads as NumPy and compiles with ``compile``; ``load`` makes the function.
"""
import math
import operator

import numpy as np

from .core.staged import STAGING
from .core.program import Guard, Ref, refs_in


class Retrace(Exception):
    """A guard of the emitted program failed: the run took another path; trace again."""


# -- emission ----------------------------------------------------------------------------------

_LITERALS = (bool, int, str, type(None))


class Namespace:
    """The names the emitted source calls and reads: NumPy as ``np``, everything else under
    a readable name of its own."""

    def __init__(self):
        self.values = {"np": np, "_Retrace": Retrace}
        self._names = {}

    def function(self, fn):
        public = _numpy_name(fn)
        if public is not None:
            return public
        return self._named(fn, getattr(fn, "__name__", "f").lstrip("_") or "f")

    def constant(self, value):
        return self._named(value, "c")

    def _named(self, value, stem):
        key = id(value)
        if key in self._names:
            return self._names[key]
        stem = "".join(ch if ch.isalnum() else "_" for ch in stem)
        name = f"_{stem}{len(self._names)}"
        self._names[key] = name
        self.values[name] = value
        return name


def _numpy_name(fn):
    """``np.name`` (or ``np.linalg.name``, ``np.add.at``) where NumPy exports ``fn`` so."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, np.ufunc):   # a ufunc method: np.add.at, np.add.reduce
        base = _numpy_name(owner)
        return f"{base}.{fn.__name__}" if base is not None else None
    name = getattr(fn, "__name__", None)
    if name is None:
        return None
    for prefix, module in (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft)):
        if getattr(module, name, None) is fn:
            return f"{prefix}.{name}"
    return None


def _source_of(x, names):
    """Python source for an argument: a Ref's name, a literal, or a namespace name."""
    kind = type(x)
    if kind is Ref:
        return repr(x)
    if kind in _LITERALS:
        return repr(x)
    if kind is float:
        return repr(x) if math.isfinite(x) else names.constant(x)
    if kind is tuple:
        inner = ", ".join(_source_of(v, names) for v in x)
        return f"({inner},)" if len(x) == 1 else f"({inner})"
    if kind is list:
        return "[" + ", ".join(_source_of(v, names) for v in x) + "]"
    if kind is slice:
        return (f"slice({_source_of(x.start, names)}, {_source_of(x.stop, names)}, "
                f"{_source_of(x.step, names)})")
    if x is Ellipsis:
        return "..."
    if kind is dict and all(type(k) is str for k in x):
        return "{" + ", ".join(f"{k!r}: {_source_of(v, names)}" for k, v in x.items()) + "}"
    return names.constant(x)


def _index_source(index, names):
    """An index as written between brackets: ``t3[0, 1:2]``."""
    if type(index) is slice:
        start, stop = ("" if v is None else _source_of(v, names) for v in (index.start, index.stop))
        step = "" if index.step is None else ":" + _source_of(index.step, names)
        return f"{start}:{stop}{step}"
    if type(index) is tuple and index:
        return ", ".join(_index_source(i, names) for i in index)
    return _source_of(index, names)


def _line_source(line, names):
    fn = line.fn
    out = repr(line.out)
    if fn is operator.getitem:
        return f"{out} = {_source_of(line.args[0], names)}[{_index_source(line.args[1], names)}]"
    if fn is operator.setitem:
        target, index, value = (_source_of(line.args[0], names),
                                _index_source(line.args[1], names),
                                _source_of(line.args[2], names))
        return f"{target}[{index}] = {value}"
    if fn.__name__ == "_identity":
        return f"{out} = {_source_of(line.args[0], names)}"
    call_args = [_source_of(a, names) for a in line.args]
    call_args += [f"{k}={_source_of(v, names)}" for k, v in line.kwargs.items()]
    call = f"{names.function(fn)}({', '.join(call_args)})"
    if line.effect is True:   # a write: its result is never read
        return call
    return f"{out} = {call}"


def _guard_source(guard, names):
    ref = repr(guard.ref)
    expected = guard.expected
    if guard.kind == "shape":
        return f"if {ref}.shape != {expected!r}: raise _Retrace"
    if guard.kind == "bool":
        return f"if {'not ' if expected else ''}{ref}: raise _Retrace"
    read = f"{ref}.item()" if guard.kind == "item" else f"{guard.kind}({ref})"
    if expected != expected:   # NaN: the same path while it stays NaN
        return f"if {read} == {read}: raise _Retrace"
    return f"if {read} != {_source_of(expected, names)}{_signs(read, expected)}: raise _Retrace"


def _signs(read, expected):
    """The checks that a zero of ``expected`` keeps its sign: 0.0 and -0.0 compare equal,
    but a program specialized to one divides to the other infinity."""
    if type(expected) is float:
        parts = [(read, expected)]
    elif type(expected) is complex:
        parts = [(f"{read}.real", expected.real), (f"{read}.imag", expected.imag)]
    else:
        return ""
    return "".join(f" or np.signbit({r}) != {math.copysign(1.0, v) < 0}"
                   for r, v in parts if v == 0)


def emit(lines, inputs, results, name="compiled", structure=None):
    """``(source, namespace)``: a function ``name(*inputs)`` returning ``results`` (Refs and
    constants): as a tuple of them, or, given the ``structure`` of the output (leaves in
    tuples and lists), as that structure itself."""
    names = Namespace()
    body = []
    errors = None   # the error handling of the block being written (None: the caller's)
    freed = _freed_after(lines, results)
    for k, line in enumerate(lines):
        if type(line) is Guard:
            body.append(("    " if errors else "") + _guard_source(line, names))
        else:
            if line.errors != errors:
                errors = line.errors
                if errors:   # lines the walk ran with some warnings off
                    changed = ", ".join(f"{k}={v!r}" for k, v in sorted(errors.items()))
                    body.append(f"with np.errstate({changed}):")
            body.append(("    " if errors else "") + _line_source(line, names))
        if k in freed:
            body.append(("    " if errors else "") + "del " + ", ".join(freed[k]))
    if structure is None:
        returned = ", ".join(_source_of(r, names) for r in results)
        body.append(f"return ({returned}{',' if len(results) == 1 else ''})")
    else:
        body.append("return " + _structure_source(structure, iter(results), names))
    header = f"def {name}({', '.join(repr(r) for r in inputs)}):"
    return "\n".join([header] + ["    " + line for line in body]) + "\n", names.values


# Arrays from this many bytes on are let go as soon as no later line reads them, as a
# hand-written expression lets go of its temporaries: the allocator then gives their memory,
# still mapped and in cache, to the next array of that size (a new mapping costs a page fault
# per page). Smaller arrays are left to the function's end, where a `del` would cost more
# than it saves.
LARGE = 1 << 16


def _freed_after(lines, results):
    """Line position -> the names of large arrays last read there (nor returned)."""
    kept = {r.number for r in results if type(r) is Ref}
    large, last_read = {}, {}
    for k, line in enumerate(lines):
        reads = [line.ref] if type(line) is Guard else refs_in(line.args, refs_in(line.kwargs, []))
        for r in reads:
            if r.number in large:
                last_read[r.number] = k
        if type(line) is not Guard and line.meta is not None and not line.effect:
            _, shape, dtype = line.meta
            if math.prod(shape) * dtype.itemsize >= LARGE and line.out.number not in kept:
                large[line.out.number] = line.out
                last_read.setdefault(line.out.number, k)
    freed = {}
    for number, k in last_read.items():
        freed.setdefault(k, []).append(repr(large[number]))
    return freed


def _structure_source(treedef, results, names):
    if treedef.kind == "leaf":
        return _source_of(next(results), names)
    items = [_structure_source(c, results, names) for c in treedef.children]
    if treedef.kind == "list":
        return "[" + ", ".join(items) + "]"
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def load(source, namespace, name="compiled"):
    """The function the source defines, with its names bound."""
    scope = dict(namespace)
    exec(compile(source, f"<wg.compile {name}>", "exec"), scope)
    return scope[name]


def is_staged(x):
    return type(x) in STAGING
