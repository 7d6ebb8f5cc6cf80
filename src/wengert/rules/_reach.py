"""How wengert reaches libraries that NumPy's protocols do not dispatch (SciPy).

NumPy hands every ufunc and array function called on a tracer to wengert; SciPy's own
functions (``scipy.linalg.solve_triangular``, ``scipy.special.logsumexp``) convert their
arguments with ``np.asarray`` first, which no protocol intercepts. Two pieces close the gap:

- a **door**: the library's module attribute is replaced by a thin function that enters
  ``bind`` with the original function. Without tracers, bind calls the original with the same
  arguments (the same result, bit for bit, for well under a microsecond); with tracers, the
  rule registered for the original applies, or its traced definition runs.
- a **watcher** on the import system: when the program imports a supported library module
  (before or after wengert), the wengert module with its rules and doors is imported right
  after it. Nothing of SciPy is imported because wengert is.

A name bound before wengert was imported (``from scipy.linalg import solve_triangular`` first)
still refers to the original: the error a tracer meets there says so (the core's
``np.asarray`` error looks the function up in ``registry.reached``).
"""
import functools
import importlib
import importlib.abc
import importlib.util
import sys
import threading

import numpy as np

from ..arraytypes import (ATOMS, REFUSING_CONVERSION, ConversionRefused, refused,
                          refusing_records)
from ..core.bind import bind
from ..core.levels import Tracer
from ..errors import DifferentiationError
from ..registry import implementations, reached
from ..tree import flatten

# library module -> the wengert module holding its rules (imported once the library is)
SUPPORT = {}

# door -> original (``registry.reached`` maps the original to its public name)
_originals = {}


def reach(module, name):
    """Route calls of ``module.name`` through bind; returns the original function, the key
    its rules are registered under. Reaching a name twice is harmless."""
    current = getattr(module, name)
    original = _originals.get(current, current)
    if current is original:
        @functools.wraps(original)
        def door(*args, **kwargs):
            # Plain arrays, numbers and strings only: SciPy's own call, at once (bind would
            # find no tracer either, a few hundred nanoseconds later). Anything else — a
            # tracer, a list, a function that may close over tracers — goes through bind.
            for a in args:
                if type(a) not in ATOMS:
                    break
            else:
                for a in kwargs.values():
                    if type(a) not in ATOMS:
                        break
                else:
                    body = implementations.get(original)
                    return (original if body is None else body)(*args, **kwargs)
            if REFUSING_CONVERSION:   # a lazy array type is loaded: the call must not compute one
                return _refusing_conversion(original, args, kwargs)
            return bind(original, args, kwargs)

        _originals[door] = original
        setattr(module, name, door)
    reached.setdefault(original, f"{module.__name__}.{name}")
    return original


def _refusing_conversion(original, args, kwargs):
    """``bind(original, args, kwargs)`` where the call may hold arrays of a type that must not
    be converted (Dask's: SciPy's ``np.asarray`` would compute them): the rule runs with their
    conversion refused, and the levels of its tracers walk its pullback so too."""
    leaves = [*args, *kwargs.values()]
    if not all(type(a) in ATOMS or isinstance(a, (Tracer, np.ndarray)) for a in leaves):
        leaves = flatten((args, kwargs))[0]   # lists, tuples, structures: their leaves
    records = refusing_records(leaves)
    if not records:
        return bind(original, args, kwargs)
    for leaf in leaves:
        while isinstance(leaf, Tracer):   # each level's walk will run pullbacks of this rule
            leaf._level.refuse_conversion(records)
            leaf = leaf._value
    try:
        with refused(records):
            return bind(original, args, kwargs)
    except ConversionRefused as refusal:
        raise DifferentiationError(refusal.record.refusal(reached[original])) from None
    except TypeError as error:   # maybe an array that refuses conversion itself (CuPy's)
        record = _refused_itself(error, records)
        if record is None:
            raise
        raise DifferentiationError(record.refusal(reached[original])) from error


def _refused_itself(error, records):
    """The record, among ``records`` of arrays that refuse conversion themselves, whose
    ``__array__`` raised ``error``; None for any other error."""
    if isinstance(error, DifferentiationError):
        return None   # wengert's own (a tracer's __array__ included): it says what it means
    last = error.__traceback__
    while last.tb_next is not None:
        last = last.tb_next
    if not last.tb_frame.f_code.co_name.endswith("__array__"):   # Cython's name is dotted
        return None
    return next((r for r in records if r.refusing_conversion is None), None)


def is_door(fn):
    return fn in _originals


def supported(library_module, wengert_module):
    """Declare that ``wengert_module`` supports ``library_module`` (loaded when it is)."""
    SUPPORT[library_module] = wengert_module
    if library_module in sys.modules:
        importlib.import_module(wengert_module)


class _LoadThenSupport(importlib.abc.Loader):
    """The library's own loader, followed by wengert's support module for it."""

    def __init__(self, loader, name):
        self._loader = loader
        self._name = name

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        importlib.import_module(SUPPORT[self._name])

    def __getattr__(self, attribute):   # resources, source, reload: the real loader's
        return getattr(self._loader, attribute)


class _Watcher(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of a supported library module."""

    def __init__(self):
        self._finding = threading.local()

    def find_spec(self, name, path=None, target=None):
        if name not in SUPPORT or getattr(self._finding, "name", None) == name:
            return None
        self._finding.name = name   # the search below must not find this finder again
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._finding.name = None
        if spec is None or spec.loader is None:
            return None
        spec.loader = _LoadThenSupport(spec.loader, name)
        return spec


def _install_watcher():
    if not any(type(f).__name__ == "_Watcher" and f.__module__ == __name__
               for f in sys.meta_path):
        sys.meta_path.insert(0, _Watcher())


_install_watcher()



# SciPy's modules, each supported by one module of ours (imported with it). The ODE solvers'
# rules differentiate the user's function, so they sit above the mode engines, not in rules/.
for _library in ("special", "linalg", "stats", "fft", "signal"):
    supported(f"scipy.{_library}", f"wengert.rules.scipy_{_library}")
supported("scipy.integrate", "wengert.odes")
supported("dask.array", "wengert.rules.dask_arrays")
supported("cupy", "wengert.rules.cupy_arrays")
