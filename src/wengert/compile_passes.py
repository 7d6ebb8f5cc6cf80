"""The passes over a recorded Wengert list, before it is emitted (compile_emit.py).

``fold`` computes once what reads no input and merges repeated pure calls; ``prune`` keeps
what the results, the guards and the writes into live buffers need; ``sink`` and ``hoist``
order lines for the cache and for buffers; ``reuse`` lets an elementwise ufunc write into an
argument nothing reads any more.
"""
import operator

import numpy as np

from .core.program import DRAW, Guard, Line, Ref, refs_in as _refs_in


# -- constants folded -------------------------------------------------------------------------

def _deterministic(fn):
    module = getattr(fn, "__module__", None) or ""
    return (isinstance(fn, np.ufunc) or fn is operator.getitem or (
        module.startswith("numpy") and not module.startswith("numpy.random")))


def _substituted(x, values):
    kind = type(x)
    if kind is Ref:
        return values.get(x.number, x)
    if kind is tuple or kind is list:
        return kind(_substituted(v, values) for v in x)
    if kind is dict:
        return {k: _substituted(v, values) for k, v in x.items()}
    return x


# x · 1, 1 · x, x + 0, 0 + x, x − 0, x / 1: the argument at that position, where the other
# is a constant of that value (a gradient's seed of ones, a zero cotangent made dense).
_NEUTRAL = {np.multiply: (1, (0, 1)), np.add: (0, (0, 1)), np.subtract: (0, (0,)),
            np.true_divide: (1, (0,))}


def _selected_whole(line, args, kwargs, external):
    """The argument a line equals whole, or None: the branch ``np.where(mask, a, b)``
    selects where ``mask`` is a constant all False (``b``) or all True (``a``) — a cotangent
    masked where a constant cotangent is 0 (0·∞ = 0) — or ``x`` of ``x · 1`` and friends.
    The caller checks that shape and dtype are the result's."""
    neutral = _NEUTRAL.get(line.fn)
    if neutral is not None and not kwargs and len(args) == 2:
        value, positions = neutral
        for position in positions:
            other = args[1 - position]
            if (type(args[position]) is Ref and not _variable(other, external)
                    and isinstance(other, (np.ndarray, np.generic, int, float))
                    and np.all(np.asarray(other) == value) and _bit_for_bit(line, other)):
                return args[position]
        return None
    if line.fn is not np.where or kwargs or len(args) != 3 or _variable(args[0], external):
        return None
    mask = np.asarray(args[0])
    if mask.dtype != bool:
        return None
    if not mask.any():
        return args[2]
    return args[1] if mask.all() else None


def _bit_for_bit(line, other):
    """Whether ``x · 1``, ``x + 0`` or ``x − 0`` of ``other`` (ones or zeros) is ``x`` to the
    last bit: -0.0 + 0.0 is 0.0, so a floating-point ``x`` keeps its negative zeros only
    where the zeros added are -0.0 (subtracted: 0.0); a complex product or quotient mixes
    the parts (0·∞ is NaN), and is never taken for ``x``."""
    kind = line.meta[2].kind if line.meta is not None else "f"
    if kind == "c":
        return False
    if kind != "f" or line.fn not in (np.add, np.subtract):
        return True
    return bool(np.all(np.signbit(other) == (line.fn is np.add)))


def _has_refs(args, kwargs):
    return bool(_refs_in(args, _refs_in(kwargs, [])))


def _variable(x, external):
    """Whether ``x`` may differ from run to run: a Ref, or an array the program refers to
    (a closed-over one, which the caller may change in place)."""
    return type(x) is Ref or (isinstance(x, np.ndarray) and id(x) in external)


def _reads_variables(args, kwargs, external):
    if _has_refs(args, kwargs):
        return True
    stack = [args, kwargs]
    while stack:
        x = stack.pop()
        if _variable(x, external):
            return True
        if type(x) is tuple or type(x) is list:
            stack.extend(x)
        elif type(x) is dict:
            stack.extend(x.values())
    return False


def _written_buffers(lines, aliases):
    """The numbers of the Refs that share memory with one some line writes into."""
    return _sharing(lines, [_written(line) for line in lines if type(line) is Line
                            and line.effect and _written(line) is not None], aliases)


def _sharing(lines, refs, aliases):
    """The numbers of ``refs`` and of every Ref that shares memory with one of them: the
    arrays they are views of, and every other view of those (a view comes after its base).
    ``aliases``: input number -> the number of an input it shares memory with."""
    root = dict(aliases)
    for line in lines:
        if type(line) is Line and line.view_of is not None:
            root[line.out.number] = root.get(line.view_of.number, line.view_of.number)
    roots = {root.get(r.number, r.number) for r in refs}
    return roots | {number for number, base in root.items() if base in roots}


def _call_key(fn, args, kwargs):
    """A hashable key of a call by its function and the values it reads (Refs by number,
    arrays by identity), or None."""
    try:
        key = (fn, _value_key(args), _value_key(kwargs))
        hash(key)
    except TypeError:
        return None
    return key


def _value_key(x):
    kind = type(x)
    if kind is Ref:
        return ("ref", x.number)
    if kind is tuple or kind is list:
        return (kind.__name__, tuple(_value_key(v) for v in x))
    if kind is dict:
        return ("dict", tuple((k, _value_key(v)) for k, v in x.items()))
    if kind is slice:
        return ("slice", _value_key(x.start), _value_key(x.stop), _value_key(x.step))
    if isinstance(x, (np.ndarray, np.generic)) or callable(x):
        return ("id", id(x))
    if kind is float:   # by its bits: x · 0.0 is not x · -0.0
        return (kind, x.hex())
    if kind is complex:
        return (kind, x.real.hex(), x.imag.hex())
    return (kind, x)


def fold(lines, results, inputs=(), external=frozenset(), aliases={}):
    """Lines that read no input (the seed 1.0 of a gradient, made and broadcast) computed
    once, when tracing: their results become constants of the program. Never a result (or
    an array a result is a view of), nor a buffer that a line writes into (or a view of
    one): those must be fresh in every run.
    A pure call repeated on the same values (no write between) is computed once.
    ``inputs``: ``(Ref, (type, shape, dtype))`` of the program's inputs; ``external``: the
    ids of the arrays it refers to, which are never folded; ``aliases``: input number ->
    the number of another input that shares its memory (the same array passed twice).
    Returns the lines and the results, renamed where a line was found to be another."""
    # What the caller gets: the results and the arrays they are views of. Each must be an
    # array of its own in every run, shared with no input, constant or other result, as
    # the function's are (the caller may write into it).
    returned = _sharing(lines, [r for r in results if type(r) is Ref], aliases)
    written = _written_buffers(lines, aliases)
    values = {}   # Ref number -> the constant or the Ref that stands for it from here on
    # Ref number -> ((type, shape, dtype), whether it is a value of its own, no input)
    meta = {r.number: (kind, False) for r, kind in inputs}
    seen = {}     # a pure call's key -> the Ref of its first result (common subexpressions)
    folded = []
    for line in lines:
        if type(line) is Guard:
            ref = values.get(line.ref.number, line.ref)
            if type(ref) is Ref:   # a guard on a constant holds for the whole signature
                folded.append(Guard(ref, line.kind, line.expected))
            continue
        args = _substituted(line.args, values)
        kwargs = _substituted(line.kwargs, values)
        if line.effect:
            seen.clear()   # a write: what was computed before may read other values now
        elif (line.out.number not in written | returned and _deterministic(line.fn)
              and _reads_variables(args, kwargs, external)):
            key = _call_key(line.fn, args, kwargs)
            earlier = seen.setdefault(key, line.out) if key is not None else line.out
            if earlier is not line.out:
                # the same call on the same values (which may stand for another in turn)
                values[line.out.number] = values.get(earlier.number, earlier)
                continue
        meta[line.out.number] = (line.meta, line.fresh is not None or (
            line.meta is not None and line.meta[0] is not np.ndarray))   # new, or a scalar
        chosen = _selected_whole(line, args, kwargs, external)
        if (type(chosen) is Ref and line.out.number not in written and line.meta is not None
                and chosen.number not in written   # else a later write shows in both
                and chosen.number in meta and meta[chosen.number][0] == line.meta
                and (line.out.number not in returned or (
                    meta[chosen.number][1] and chosen.number not in returned))):
            values[line.out.number] = chosen   # x · 1, np.where of a constant mask, ...
            continue
        if line.fn is np.power and len(args) == 2 and type(args[1]) is int and args[1] == 2:
            line = line.replaced(fn=np.square, args=args[:1], kwargs=kwargs)   # as x ** 2 does
            args = line.args
        if (not line.effect and line.out.number not in written | returned
                and _deterministic(line.fn)
                and not _reads_variables(args, kwargs, external)):
            values[line.out.number] = (line.value if line.value is not None
                                       else line.fn(*args, **kwargs))
            continue
        base = line.view_of and values.get(line.view_of.number, line.view_of)   # renamed too
        folded.append(line.replaced(args=args, kwargs=kwargs, value=None,
                                    view_of=base if type(base) is Ref else None))
    return folded, [_substituted(r, values) for r in results]


# -- dead code ---------------------------------------------------------------------------------

def _target(line):
    """What a writing line writes into: its ``out=`` or its first argument (a draw: none,
    but for a shuffle's argument)."""
    out = line.kwargs.get("out") if line.kwargs else None
    if line.effect is DRAW and out is None and getattr(line.fn, "__name__", "") != "shuffle":
        return None
    target = out if out is not None else (line.args[0] if line.args else None)
    if type(target) is tuple:
        target = target[0] if target else None
    return target


def _written(line):
    """The Ref a writing line writes into, or None (a constant, an array referred to)."""
    target = _target(line)
    return target if type(target) is Ref else None


def writes_before_a_guard(lines, inputs, external):
    """Whether a line writes into an input or an array the program refers to before a guard
    is checked: a failed guard would leave the write done, and the trace that follows would
    read the written values."""
    outside = {r.number for r in inputs}
    root = {}
    wrote = False
    for line in lines:
        if type(line) is Guard:
            if wrote:
                return True
            continue
        if line.view_of is not None:
            root[line.out.number] = root.get(line.view_of.number, line.view_of.number)
        if line.effect:
            target = _target(line)
            if type(target) is Ref:
                wrote = wrote or root.get(target.number, target.number) in outside
            else:
                wrote = wrote or (isinstance(target, np.ndarray) and id(target) in external)
    return False


def prune(lines, results, inputs):
    """The lines the results need, in order. A line is needed when a later needed line or a
    result reads its output, when it is a guard, or when it writes into a buffer (or a view
    of one) that a later needed line reads, an input, or an array the program refers to."""
    root = {}
    for line in lines:
        if type(line) is Line and line.view_of is not None:
            root[line.out.number] = root.get(line.view_of.number, line.view_of.number)

    def root_of(ref):
        return root.get(ref.number, ref.number)

    live = {root_of(r) for r in results} | {r.number for r in results}
    input_numbers = {r.number for r in inputs}
    kept = []
    for line in reversed(lines):
        if type(line) is Guard:
            needed = True
            reads = [line.ref]
        else:
            reads = _refs_in(line.args, _refs_in(line.kwargs, []))
            if line.effect:
                target = _written(line)
                needed = target is None or line.effect is DRAW or root_of(target) in live or (
                    root_of(target) in input_numbers)
            else:
                needed = line.out.number in live
        if needed:
            kept.append(line)
            for r in reads:
                live.add(r.number)
                live.add(root_of(r))
    kept.reverse()
    return kept


# -- buffers reused ----------------------------------------------------------------------------

def _elementwise(line):
    """A plain call of an elementwise ufunc whose result is a new array: it may write into
    an argument of its result's shape and dtype (not matmul, a ufunc with a signature)."""
    return (type(line) is Line and isinstance(line.fn, np.ufunc) and not line.kwargs
            and line.fn.signature is None and line.fresh is not None)


def sink(lines):
    """Lines whose results only the program returns (a weight's gradient: a large product
    that no later line reads) moved to the end, in order, where no write follows them. The
    walk interleaves them with the chain of cotangents; moved out of it, each elementwise
    line of the chain reads what the line before it made while that is still in cache."""
    read = set()
    last_write = -1
    for k, line in enumerate(lines):
        if type(line) is Guard:
            read.add(line.ref.number)
            continue
        read.update(r.number for r in _refs_in(line.args, _refs_in(line.kwargs, [])))
        if line.effect:
            last_write = k
    kept, sunk = [], []
    for k, line in enumerate(lines):
        (sunk if type(line) is Line and k > last_write and line.view_of is None
         and line.out.number not in read else kept).append(line)
    return kept + sunk


def hoist(lines):
    """Move the few later readers of an elementwise line's argument (pure lines that make
    no view, whose own arguments exist already, with no write in between) above it, so that
    the line may write into the argument: ``t5 = t3[i]`` before ``t4 = np.square(t3)``. A
    line moved so moves nothing itself (its readers could cross a write)."""
    readers = {}
    for line in lines:
        if type(line) is Line:
            for r in _refs_in(line.args, _refs_in(line.kwargs, [])):
                readers.setdefault(r.number, []).append(line)
    order = {id(line): float(k) for k, line in enumerate(lines)}
    defined = {line.out.number: order[id(line)] for line in lines if type(line) is Line}
    writes = [order[id(line)] for line in lines if type(line) is not Line or line.effect]
    for position, line in enumerate(lines):
        if not _elementwise(line) or order[id(line)] != position:   # a moved line stays
            continue
        here = order[id(line)]
        for a in line.args:
            if type(a) is not Ref:
                continue
            later = [r for r in readers.get(a.number, ()) if order[id(r)] > here]
            if not later or len(later) > 2 or not all(
                    _hoistable(r, line.errors, here, order, defined, writes) for r in later):
                continue
            for k, r in enumerate(sorted(later, key=lambda r: order[id(r)])):
                order[id(r)] = here - 0.5 + k / 4 / len(later)   # just above, in order
                defined[r.out.number] = order[id(r)]
            break
    return sorted(lines, key=lambda line: order[id(line)])


def _hoistable(line, errors, here, order, defined, writes):
    """Whether ``line`` may move up to ``here``: pure, no view, under the same error
    handling, reading nothing made after ``here``, with no write in between."""
    if (type(line) is not Line or line.effect or line.view_of is not None
            or line.errors != errors):
        return False
    there = order[id(line)]
    if any(here < w < there for w in writes):
        return False
    return all(defined.get(r.number, -1.0) < here
               for r in _refs_in(line.args, _refs_in(line.kwargs, [])))


def reuse(lines, results):
    """An elementwise ufunc writes its result into an argument that no later line reads (a
    fresh array of the result's shape and dtype, which no view, write or result shares):
    ``t9 = np.tanh(t8, out=t8)``. Large arrays then cost no new memory per line."""
    fresh = {}
    shared = {r.number for r in results if type(r) is Ref}
    last_read = {}
    for position, line in enumerate(lines):
        if type(line) is Guard:
            last_read[line.ref.number] = position
            continue
        if line.fresh is not None:
            fresh[line.out.number] = line.fresh
        if line.view_of is not None:
            shared.add(line.view_of.number)
        if line.effect:
            target = _written(line)
            if target is not None:
                shared.add(target.number)
        for r in _refs_in(line.args, _refs_in(line.kwargs, [])):
            last_read[r.number] = position
    reused = []
    for position, line in enumerate(lines):
        if _elementwise(line):
            for a in line.args:
                if (type(a) is Ref and a.number not in shared and last_read[a.number] == position
                        and fresh.get(a.number) == line.fresh):
                    line = line.replaced(kwargs={"out": a})
                    shared.add(a.number)   # one result per buffer
                    break
        reused.append(line)
    return reused
