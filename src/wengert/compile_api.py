"""``wg.compile``: trace a function once per signature into a NumPy program, run that after.

A signature is the structure of the arguments, the shape, dtype, strides and type of each
array, and the types and values of everything else (static arguments, Python numbers,
strings). The first call with a signature runs the function under a staging level (core/staging.py), whose program —
the forward pass and, for a derivative, the whole backward walk — is optimized
(compile_passes.py) and emitted as Python source (compile_emit.py). Each emitted program
checks the decisions its trace took (its guards); one whose guard fails hands the call to
another path of the same signature, or to a new trace.
"""
import functools
import inspect
import keyword
import pickle
import re
import warnings
from collections import OrderedDict

import numpy as np

from .core import staging
from .core.program import drawn_from
from .core.staged import begin_tracing, end_tracing, tracing
from .core.staging import StagedGenerator, StagingLevel
from .compile_emit import Retrace, emit, is_staged, load
from .compile_paths import Program
from .compile_passes import fold, hoist, prune, reuse, sink, writes_before_a_guard
from .arraytypes import of_another_library, users_own
from .errors import DifferentiationError
from .params import Params
from .reach import _Substitution, moved_on, places_read, reachable, which_held
from .tree import flatten, unflatten

# Rules that take faster ways on concrete arrays: called whole by the emitted program.
staging.opaque.update({np.linalg.solve, np.linalg.cholesky})

# Paths kept per compiled function (all signatures together), the oldest dropped first;
# past this many traces the function is said to keep retracing.
MAX_PATHS = 8


class Compiled:
    """What ``wg.compile(fn)`` returns: call it as ``fn``; ``source(*args)`` shows the program."""

    def __init__(self, fn, static_argnums=()):
        if not callable(fn):
            raise DifferentiationError(f"wg.compile needs a function; it received {fn!r}.")
        self.fn = fn
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        self.static_argnums = frozenset(static_argnums)
        self._paths = OrderedDict()   # (signature, trace number) -> Program, oldest first
        self._by_key = {}             # signature -> its Programs, newest first
        self._traces = 0
        self._warned = False
        functools.update_wrapper(self, fn, updated=())

    def __call__(self, *args):
        if tracing() is not None:   # called while another is traced: part of it
            return self.fn(*args)
        key = self._plain_key(args)
        if key is not None:   # arrays only, the common call: no flattening
            leaves = args
        else:
            key, leaves = self._signature(args)
        for program in self._by_key.get(key, ()):
            try:
                return program(leaves)
            except Retrace:   # another path of the signature, or a new one
                continue
        return self._trace(key, args)[1]

    def _plain_key(self, args):
        """The key of a call whose arguments are all NumPy arrays and none static, else None."""
        if self.static_argnums:
            return None
        key = []
        for a in args:
            if type(a) is not np.ndarray:
                return None
            key.append(a.shape)
            key.append(a.dtype)
            key.append(a.strides)
        if len(args) > 1 and len({id(a if a.base is None else a.base) for a in args}) < len(args):
            key.append(_owners(args))   # some share memory
        return tuple(key)

    def source(self, *args):
        """The emitted Python source for the signature of ``args`` (traced if it is new)."""
        key = self._plain_key(args)
        leaves = args
        if key is None:
            key, leaves = self._signature(args)
        for program in self._by_key.get(key, ()):
            if program.takes(leaves):   # the path these arguments take
                return program.source
        return self._trace(key, args)[0].source

    # -- signature -------------------------------------------------------------------------------
    def _signature(self, args):
        """``(key, array leaves)`` of a call with any arguments."""
        dynamic = [a for i, a in enumerate(args) if i not in self.static_argnums]
        static = tuple((i, _value_key(a, "static argument")) for i, a in enumerate(args)
                       if i in self.static_argnums)
        leaves, treedef = flatten(dynamic)
        described = []
        arrays = []
        for leaf in leaves:
            if _is_array(leaf):
                described.append((type(leaf), np.shape(leaf), leaf.dtype, _layout(leaf)))
                arrays.append(leaf)
            else:
                if hasattr(leaf, "__array_function__") or hasattr(leaf, "__array_ufunc__"):
                    raise DifferentiationError(
                        f"wg.compile takes the arrays of the libraries wengert knows "
                        f"(NumPy's, and Dask's or CuPy's where installed); it received a "
                        f"{type(leaf).__name__}. Convert it with np.asarray first.")
                described.append(_value_key(leaf, "argument"))
        return (len(args), static, _tree_key(treedef), tuple(described),
                _owners(arrays)), arrays

    # -- tracing ---------------------------------------------------------------------------------
    def _trace(self, key, args):
        static = [a for i, a in enumerate(args) if i in self.static_argnums]
        # Arrays fn reaches where the substitution below points elsewhere, and those of the
        # wg.Params it reaches (gradient(f, ps) substitutes those)
        found = reachable((self.fn, *static), lambda x: type(x) is np.ndarray or isinstance(
            x, Params) or of_another_library(x))
        external = list({id(a): a for x in found
                         for a in (x if isinstance(x, Params) else (x,))}.values())
        level = StagingLevel(external=external)
        dynamic = [a for i, a in enumerate(args) if i not in self.static_argnums]
        leaves, treedef = flatten(dynamic)
        names = iter(_input_names(self.fn, args, self.static_argnums))
        staged = [level.new_input(x, next(names)) if _is_array(x) else x for x in leaves]
        staged_args = iter(unflatten(treedef, staged))
        call_args = [a if i in self.static_argnums else next(staged_args)
                     for i, a in enumerate(args)]
        held = [(program, which_held(program.places)) for program in self._paths.values()]
        token = begin_tracing(level)
        try:
            out = _call_with_stand_ins(self.fn, call_args, level, external, [static, dynamic])
        finally:
            end_tracing(token)
            level.active = False
        for program, was in held:   # what the function changed itself while traced
            program.places = moved_on(program.places, was)
        out_leaves, out_treedef = flatten(out)
        out_leaves = [self._owned(level, leaf) for leaf in out_leaves]
        results = [leaf._ref if is_staged(leaf) else self._constant(level, leaf)
                   for leaf in out_leaves]
        inputs = [(x._ref, (type(x._value), np.shape(x._value), x._value.dtype))
                  for x in staged if is_staged(x)]
        arrays = [x for x in staged if is_staged(x)]
        owners = _owners([x._value for x in arrays])   # inputs that share memory: one
        aliases = {x._ref.number: arrays[o]._ref.number
                   for x, o in zip(arrays, owners or ()) if o is not None}
        lines, results = fold(level.lines, results, inputs, set(level.external), aliases)
        returned = [r for r in results if type(r) is staging.Ref]
        lines = reuse(hoist(sink(prune(lines, returned, level.inputs))), returned)
        if writes_before_a_guard(lines, level.inputs, set(level.external)):
            raise DifferentiationError(
                f"wg.compile: {_name_of(self.fn)} writes into an argument (or an array it "
                "closes over) before it takes a decision on values: where the decision went "
                "the other way, the program would have written already and the next trace "
                "would read the written values. Copy the argument before writing into it "
                "(x = x.copy()), or take the decision first.")
        direct = _literal(out_treedef)
        source, namespace = emit(lines, level.inputs, results, _name_of(self.fn),
                                 out_treedef if direct else None)
        program = Program(load(source, namespace, _name_of(self.fn)), source,
                          None if direct else out_treedef, places_read((self.fn, *static)),
                          drawn_from(lines))
        self._remember(key, program)
        result = unflatten(out_treedef, [x._value if is_staged(x) else x for x in out_leaves])
        return program, result

    @staticmethod
    def _owned(level, leaf):
        """A staged result the caller may write into: a read-only one (a broadcast view, as
        the cotangent of a sum is) is copied, as the uncompiled transformations do."""
        if is_staged(leaf) and isinstance(leaf._value, np.ndarray) and (
                not users_own(leaf._value)):
            return level.process(np.copy, (leaf,), {})
        return leaf

    def _constant(self, level, leaf):
        """A result that is no staged value, as the program returns it: an array the
        function closes over as itself, another array as a new copy in every run."""
        if of_another_library(leaf):   # referred to, as every other library's array
            return leaf
        if isinstance(leaf, np.ndarray):
            if level._is_external(leaf):
                return leaf
            return level.process(np.copy, (leaf,), {})._ref
        if not isinstance(leaf, _RESULT_CONSTANTS):
            raise DifferentiationError(
                f"wg.compile: {_name_of(self.fn)} returned a {type(leaf).__name__}; a "
                "compiled function returns arrays, numbers, strings and None (in tuples, "
                "lists and dicts). Call a pullback's back inside the compiled function "
                "rather than returning it.")
        return leaf

    def _remember(self, key, program):
        self._traces += 1
        self._paths[(key, self._traces)] = program
        self._by_key.setdefault(key, []).insert(0, program)
        while len(self._paths) > MAX_PATHS:
            (old_key, _), old = self._paths.popitem(last=False)
            self._by_key[old_key].remove(old)
            if not self._by_key[old_key]:
                del self._by_key[old_key]
        if self._traces > MAX_PATHS and not self._warned:
            self._warned = True
            warnings.warn(
                f"wg.compile: {_name_of(self.fn)} has been traced {self._traces} times: its "
                "signatures (shapes, dtypes, Python values), the decisions it takes on "
                "values or the names and attributes it reads (rebound to new arrays or "
                "numbers) keep changing, and each change traces again. Pass values that "
                "change as arrays, write new values into arrays in place, or call the "
                "function uncompiled.", RuntimeWarning,
                stacklevel=3)


def _call_with_stand_ins(fn, args, level, external, others):
    """``fn(*args)``, traced. While it runs, every reference ``fn`` can reach to an array it
    closes over points to a staged value that reads the array itself: what ``fn`` computes
    from it is recorded, so each run recomputes it from the array's contents then. A random
    generator it reaches (or one among ``others``, its static and array arguments) draws in
    lines of the program, new numbers on every call; NumPy's global one cannot be reached
    so, and is refused."""
    stand_ins = [(a, level.lift(a)) for a in external if a.dtype.kind in "biufc"]
    stand_ins += [(g, StagedGenerator(g, level)) for g in reachable(
        [fn, others], lambda x: isinstance(x, _GENERATORS))]
    roots = [fn, args]
    global_state = _global_random_state()
    with _Substitution(roots, stand_ins):
        out = roots[0](*roots[1])
    if _global_random_state() != global_state:
        raise DifferentiationError(
            f"wg.compile: {_name_of(fn)} draws random numbers from NumPy's global generator "
            "(np.random.normal, np.random.rand, ...); the program would repeat the numbers "
            "of the trace on every call. Draw them from a generator the function can reach "
            "(rng = np.random.default_rng(); rng.normal(...)), whose draws the program "
            "makes anew, or pass them as arguments.")
    return out


_GENERATORS = (np.random.Generator, np.random.RandomState)


def _global_random_state():
    """Where NumPy's global generator (``np.random.rand`` and company) stands."""
    return pickle.dumps(np.random.get_state(legacy=False))


_RESULT_CONSTANTS = (bool, int, float, complex, str, type(None), np.generic, np.dtype)


def compile(fn, static_argnums=()):
    """``fn`` compiled: the first call per signature traces it into a NumPy program (see
    docs/compile.md); later calls with that signature run the program only."""
    return Compiled(fn, static_argnums)


def _name_of(fn):
    name = getattr(fn, "__name__", "compiled")
    return name if name.isidentifier() and not name.startswith("<") else "compiled"


def _value_key(value, what):
    """The key of a non-array argument: its type and value, floating-point numbers by their
    bits (2 and 2.0 make arrays of other dtypes; 0.0 and -0.0 divide to other infinities),
    tuples item by item."""
    kind = type(value)
    if isinstance(value, tuple):
        return kind, tuple(_value_key(v, what) for v in value)
    if isinstance(value, float):
        return kind, value.hex()
    if isinstance(value, complex):
        return kind, value.real.hex(), value.imag.hex()
    if isinstance(value, np.generic):
        return kind, value.dtype, value.tobytes()
    try:
        hash(value)
    except TypeError:
        raise DifferentiationError(
            f"wg.compile keys its programs by the values of non-array arguments; a "
            f"{what} of type {kind.__name__} cannot be a key (it is not hashable). "
            "Pass arrays, numbers, strings or tuples.") from None
    return kind, value


def _is_array(x):
    """An array the program takes as an input: NumPy's, or another registered library's
    (the program's NumPy calls reach it through NumPy's protocols)."""
    return type(x) is np.ndarray or isinstance(x, np.generic) or of_another_library(x)


def _layout(array):
    """The strides of a NumPy array, part of its signature: whether ``np.ravel`` or a
    reshape makes a view or a copy (which the program may then write into) depends on them."""
    return array.strides if type(array) is np.ndarray else None


def _owners(arrays):
    """None where no two of the NumPy ``arrays`` share memory (the commonest call), else for
    each the position of the first array of those that share one (the same array passed
    twice, views of one array), or None: part of the signature, as the passes treat the
    inputs that share memory as one."""
    first = {}
    owners = [first.setdefault(id(a if a.base is None else a.base), k)
              if type(a) is np.ndarray else None for k, a in enumerate(arrays)]
    if len(first) == sum(o is not None for o in owners):
        return None
    shared = {o for k, o in enumerate(owners) if o is not None and o != k}
    return tuple(o if o in shared else None for o in owners)



_LINE_NAME = re.compile(r"[tx]\d+|np")


def _input_names(fn, args, static_argnums):
    """A name per array leaf of the dynamic arguments: the parameter's own where the
    argument is one array and the name is free (``x``, ``w1``), else None (``x3``)."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY,
                                                            p.POSITIONAL_OR_KEYWORD)]
    names = []
    for i, a in enumerate(args):
        if i in static_argnums:
            continue
        if _is_array(a):
            name = positional[i] if i < len(positional) else None
            usable = (name is not None and name.isidentifier() and not keyword.iskeyword(name)
                      and not name.startswith("_") and not _LINE_NAME.fullmatch(name)
                      and name not in names)
            names.append(name if usable else None)
        else:
            names.extend(None for leaf in flatten(a)[0] if _is_array(leaf))
    return names


def _literal(treedef):
    """Whether the emitted source can build the output itself: leaves in tuples and lists."""
    return treedef.kind == "leaf" or (treedef.kind in ("tuple", "list") and all(
        _literal(c) for c in treedef.children))


def _tree_key(treedef):
    meta = treedef.meta
    if treedef.kind == "dataclass":   # (the instance, its field names): its class is the key
        meta = (type(meta[0]), meta[1])
    try:
        hash(meta)
    except TypeError:
        meta = repr(meta)
    return (treedef.kind, meta, tuple(_tree_key(c) for c in treedef.children))
