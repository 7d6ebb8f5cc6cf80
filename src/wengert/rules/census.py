"""The census of NumPy's namespace: what wengert does with every public function of numpy,
numpy.linalg and numpy.fft. ``census()`` gives each name one of six kinds:

- ``rule``: a reverse or forward rule is registered for it;
- ``definition``: a traced definition that AD runs in its place;
- ``non-differentiable``: its outputs are positions, flags, counts or text, with no tangent;
- ``traced through``: NumPy writes it in Python on functions that have rules, so AD follows
  it with no entry of its own;
- ``constant``: it makes arrays or answers from shapes, lengths, dtypes, files or settings,
  never from values that carry a derivative;
- ``unsupported``: a call on a traced value raises DifferentiationError with the reason
  given here (where NumPy hands the call to wengert; the others meet the tracer's refusal to
  become a plain array).

The first three kinds are read from the registry, so a function that gains a rule anywhere
leaves the tables below by itself (the census test asks to drop the stale entry). Classes
are left out: dtypes and scalar types, exceptions, ``np.ndarray``, ``np.matrix``,
``np.poly1d``, ``np.errstate``, ``np.vectorize`` (whose objects wengert differentiates: see
``callbacks``), and the like. A function NumPy does not have in a given version is skipped.
"""
import numpy as np

from ..errors import DifferentiationError
from ..registry import _non_differentiable, definitions, forward_rules, reverse_rules

MODULES = {"np": np, "np.linalg": np.linalg, "np.fft": np.fft}

_STOP = "wg.stop_gradient(x)"
_CONVERSION = ("converts to a plain ndarray, which would drop the derivative. Build arrays from "
               "traced values with np.stack or np.concatenate, or convert " + _STOP
               + " to take the values on purpose")
_IN_PLACE = ("writes into an existing array in place through a function wengert does not "
             "follow. Write with indexing instead (a[index] = values, a[mask] = values, on a "
             "traced a), or build a new array: np.where(mask, values, a), np.concatenate")
_TO_FILE = ("writes the values to a file, where the derivative would end without notice. "
            "Save " + _STOP + " to store the values on purpose")

UNSUPPORTED = {
    "np.array": _CONVERSION,
    "np.asarray": _CONVERSION,
    "np.asanyarray": _CONVERSION,
    "np.ascontiguousarray": _CONVERSION,
    "np.asfortranarray": _CONVERSION,
    "np.asarray_chkfinite": _CONVERSION,
    "np.require": _CONVERSION,
    "np.asmatrix": "makes an np.matrix, which " + _CONVERSION,
    "np.bmat": "makes an np.matrix, which " + _CONVERSION,
    "np.from_dlpack": "shares another library's memory, which holds no derivative",
    "np.fromiter": ("calls float() on each item, which would drop the derivative. Use "
                    "np.stack(list_of_values)"),
    "np.frompyfunc": ("makes a ufunc of object arrays, which hold no derivative. Use "
                      "np.vectorize, whose calls wengert differentiates"),
    "np.nested_iters": "iterates over the memory of plain arrays. Loop with indexing instead",
    "np.isfortran": ("reads the memory layout of a plain array, which a traced value does not "
                     "have. Ask wg.stop_gradient(x)"),
    "np.copyto": _IN_PLACE,
    "np.place": _IN_PLACE,
    "np.put": _IN_PLACE,
    "np.putmask": _IN_PLACE,
    "np.put_along_axis": _IN_PLACE,
    "np.fill_diagonal": _IN_PLACE + " (a diagonal: a + np.diag(values - np.diagonal(a)))",
    "np.save": _TO_FILE,
    "np.savetxt": _TO_FILE,
    "np.savez": _TO_FILE,
    "np.savez_compressed": _TO_FILE,
}

TRACED_THROUGH = {
    "np.fromfunction": "calls the function on index grids: a traced closure keeps its tangent",
    "np.row_stack": "np.vstack",
    "np.trapz": "np.trapezoid",   # NumPy before 2.4
    "np.iterable": "iter() of a traced array yields its traced rows",
    "np.fft.fftfreq": "arithmetic on the spacing d, which may be traced",
    "np.fft.rfftfreq": "arithmetic on the spacing d, which may be traced",
}

_SHAPE = "makes an array from a shape or length"
_QUERY = "answers about dtypes, settings or the installation"
_READ = "reads values from a file, a string or a buffer"
CONSTANT = {
    "np.zeros": _SHAPE, "np.ones": _SHAPE, "np.empty": _SHAPE, "np.eye": _SHAPE,
    "np.identity": _SHAPE, "np.tri": _SHAPE, "np.indices": _SHAPE,
    "np.diag_indices": _SHAPE, "np.tril_indices": _SHAPE, "np.triu_indices": _SHAPE,
    "np.mask_indices": _SHAPE, "np.broadcast_shapes": "combines shapes",
    "np.full": _SHAPE + " (a traced fill value: use np.full_like, which carries it)",
    "np.arange": _SHAPE + (" (traced bounds meet float(): use start + step * np.arange(n) "
                           "or np.linspace)"),
    "np.bartlett": _SHAPE, "np.blackman": _SHAPE, "np.hamming": _SHAPE, "np.hanning": _SHAPE,
    "np.kaiser": _SHAPE + " (a traced beta is refused by np.array inside it)",
    "np.base_repr": "formats an integer", "np.binary_repr": "formats an integer",
    "np.format_float_positional": "formats a Python number",
    "np.format_float_scientific": "formats a Python number",
    "np.datetime_data": _QUERY, "np.isdtype": _QUERY, "np.issubdtype": _QUERY,
    "np.mintypecode": _QUERY, "np.promote_types": _QUERY, "np.typename": _QUERY,
    "np.isscalar": "checks a type: a traced value answers False, as a 0-d array does",
    "np.get_include": _QUERY, "np.get_printoptions": _QUERY, "np.set_printoptions": _QUERY,
    "np.printoptions": _QUERY, "np.getbufsize": _QUERY, "np.setbufsize": _QUERY,
    "np.geterr": _QUERY, "np.seterr": _QUERY, "np.geterrcall": _QUERY, "np.seterrcall": _QUERY,
    "np.show_config": _QUERY, "np.show_runtime": _QUERY, "np.info": _QUERY,
    "np.test": "runs NumPy's tests", "np.linalg.test": "runs NumPy's tests",
    "np.fft.test": "runs NumPy's tests",
    "np.load": _READ, "np.loadtxt": _READ, "np.genfromtxt": _READ, "np.fromfile": _READ,
    "np.fromregex": _READ, "np.fromstring": _READ, "np.frombuffer": _READ,
}

TABLES = {"unsupported": UNSUPPORTED, "traced through": TRACED_THROUGH, "constant": CONSTANT}


def public_callables():
    """``{name: function}`` for every public callable of the census's modules, classes left
    out (see the module docstring)."""
    found = {}
    for prefix, module in MODULES.items():
        for attribute in dir(module):
            value = getattr(module, attribute, None)
            if attribute.startswith("_") or not callable(value) or isinstance(value, type):
                continue
            found[f"{prefix}.{attribute}"] = value
    return found


def dispatched(fn):
    """Whether NumPy hands calls of ``fn`` on a traced value to wengert (a ufunc or a function
    with ``__array_function__`` dispatch)."""
    return isinstance(fn, np.ufunc) or type(fn).__name__ == "_ArrayFunctionDispatcher"


def classify(name, fn):
    """``(kind, note)`` of one function: the registry first, then the tables."""
    definition = definitions.get(fn)
    if fn in reverse_rules.entries or fn in forward_rules.entries:
        return "rule", ""
    if definition is not None and not hasattr(definition, "refusal"):
        return "definition", ""
    if fn in _non_differentiable:
        return "non-differentiable", ""
    for kind, table in TABLES.items():
        if name in table:
            return kind, table[name]
    return "unclassified", "no rule, definition or entry in the census tables"


def census():
    """``{name: (kind, note)}`` for every public callable of numpy, numpy.linalg, numpy.fft."""
    return {name: classify(name, fn) for name, fn in sorted(public_callables().items())}


def _refusal(name, reason):
    def refusal(*args, **kwargs):
        raise DifferentiationError(
            f"{name} was called on a traced value, and wengert does not differentiate it: it "
            f"{reason}.")

    refusal.refusal = reason
    return refusal


def _register_refusals():
    """A call of an unsupported function that NumPy hands to wengert raises its reason (only
    where nothing else is registered for it)."""
    functions = public_callables()
    for name, reason in UNSUPPORTED.items():
        fn = functions.get(name)
        if fn is None or not dispatched(fn) or fn in definitions:
            continue
        if fn in reverse_rules.entries or fn in forward_rules.entries:
            continue
        definitions[fn] = _refusal(name, reason)


_register_refusals()
