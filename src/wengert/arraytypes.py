"""What wengert knows of the values it differentiates, below every other layer.

- ``TracedValue``: the mark of a value whose operations some transformation records. The core
  defines the tracers and derives them from it; the tangent algebra and trees test for it
  here, so they never import the machinery that records.
- The table of array types: one ``ArrayType`` record per kind of array (NumPy's here; Dask's
  and CuPy's in the rules, loaded with those libraries),
  from which the sets of constant, scalar and plain argument types are derived.
- ``shape_of``, ``dtype_of``, ``is_complex``: read any value's metadata (arrays, NumPy and
  Python scalars, tracers, sparse tangents) the same way everywhere.
- ``astype``: ``x.astype(dtype)`` as a function, so that the cast can carry rules.
- Making constants like a value: ``zeros_like_value``, ``ones_like_value``,
  ``full_like_value``, ``eye_like``, ``tri_like``, ``arange_like``, ``asarray_like`` make
  arrays of the kind of a reference value (through its record), so that rules and tangent
  arithmetic never call a bare ``np.zeros``.
"""
import contextlib

import numpy as np


class TracedValue:
    """Base of every tracer class: its operations are recorded. It stands for ``_value``,
    which may itself be traced by an outer transformation; a write into a tracer gives it a
    new ``_value``, never changes the array it held."""

    __slots__ = ()


class StagedValue:
    """Base of the staging level's values (``wg.compile``): an array kind of its own, not a
    ``TracedValue`` (``concrete`` stops at it), whose operations are recorded all the same."""

    __slots__ = ()


# What sparse tangent arithmetic must compute through traced operations, never by writing
# into a plain array: values of a transformation, and staged values.
RECORDED = (TracedValue, StagedValue)


def concrete(x):
    """The value beneath any number of traced layers."""
    while isinstance(x, TracedValue):
        x = x._value
    return x


# ---------------------------------------------------------------------------------------------
# The table of array types
# ---------------------------------------------------------------------------------------------

class ArrayType:
    """The record of one kind of array that tracers may carry.

    ``array``: the array class. ``scalars``: the scalar classes its operations return (NumPy's
    float64, ...), plain values like the array itself. ``in_place``: whether a cotangent of
    this type that nobody else holds may be accumulated in place (``a += b``).

    How to make arrays of this kind, each a callable with NumPy's signature less ``like``:
    ``asarray``, ``zeros``, ``ones``, ``full``, ``eye``, ``tri``, ``arange``. One left None
    is NumPy's function called with ``like=`` the reference value (NEP 35), which the
    library's ``__array_function__`` may answer.

    ``selected``: a subclass of ``array`` that marks a cotangent whose zeros are structural
    (they come from selection: np.where, indexing, max/min ties), as a free view. Elementwise
    pullbacks give exactly 0 there even where a partial is infinite (0·∞ = 0, not NaN). A
    type without a mark (None) has every cotangent treated as possibly selected: always
    masked, slower but never NaN. ``masked_product(t, partial, args, out, conjugate)``: such a type's
    elementwise pullback ``t · conj(partial(*args, out))`` (pushforward: unconjugated), 0
    where ``t`` is 0, formed in one step (Dask's: one layer of tasks), or None where it
    cannot be (the caller then forms it from the arrays); None: one operation at a time.

    ``broadcast_to(value, shape, like)``: ``np.broadcast_to(value, shape)`` laid out as the
    array ``like`` of this type (Dask's chunks), so that it combines with ``like`` without
    rearranging; None: NumPy's ``np.broadcast_to``.

    ``placed(shape, dtype, index, values)``: zeros of ``shape`` with ``values`` added at
    ``index`` (repeated positions add up), for a type whose arrays cannot be written into;
    None: NumPy's ``np.add.at`` into zeros.

    ``functions``: NumPy functions this type computes differently from NumPy, each mapped to
    a function with NumPy's semantics for it (``np.linalg.cholesky`` of a Dask array is upper
    triangular, for one). Rules call such functions through ``implementation``. ``lacks``:
    NumPy functions this library has no implementation of, each mapped to the reason; a call
    on a tracer of this type raises it rather than compute the array in NumPy behind the
    user's back.

    ``refusing_conversion()``: a context manager inside which converting an array of this
    type to NumPy's (for Dask: computing it) raises ``ConversionRefused(record)`` in the
    thread that entered it, and ``refusal(name)`` the message for a function ``name`` that
    would convert one: what the way out is. A library's function that converts its arguments
    with ``np.asarray`` (SciPy's) runs under it while it differentiates, so that a lazy
    array is never computed behind the user's back. None: conversions are left alone. A
    record with ``refusal`` alone is of arrays that refuse conversion themselves (CuPy's
    ``__array__`` raises TypeError): that error is answered with the message."""

    __slots__ = ("array", "scalars", "in_place", "selected", "asarray", "zeros", "ones",
                 "full", "eye", "tri", "arange", "placed", "broadcast_to", "functions",
                 "lacks", "masked_product", "refusing_conversion", "refusal")

    def __init__(self, array, scalars=(), in_place=True, selected=None, *, asarray=None,
                 zeros=None, ones=None, full=None, eye=None, tri=None, arange=None,
                 placed=None, broadcast_to=None, functions=None, lacks=None,
                 masked_product=None, refusing_conversion=None, refusal=None):
        self.refusing_conversion = refusing_conversion
        self.refusal = refusal
        self.masked_product = masked_product
        self.placed = placed
        self.broadcast_to = broadcast_to
        self.functions = functions or {}
        self.lacks = lacks or {}
        self.array = array
        self.scalars = frozenset(scalars)
        self.in_place = in_place
        self.selected = selected
        self.asarray = asarray
        self.zeros = zeros
        self.ones = ones
        self.full = full
        self.eye = eye
        self.tri = tri
        self.arange = arange


_records = {}   # an array or scalar class -> its record

# Derived sets, kept up to date by ``register_array_type`` and checked by exact type (one set
# look-up on the hot paths):
PYTHON_NUMBERS = frozenset({float, int, complex, bool})
# values an operation may combine with a tracer as constants: Python numbers, the registered
# arrays and their scalars
CONSTANTS = set(PYTHON_NUMBERS)
# values that are one float or complex number of a registered type (NumPy's float64, ...)
INEXACT_SCALARS = set()
# one float or complex number, of Python or of a registered type
INEXACT_NUMBERS = {float, complex}
# one value an operation returns (not a tuple of them): an array or one number
ONE_VALUE = {float, complex}
# arguments that never hold a tracer: the constants, and the other plain arguments of calls
ATOMS = set(PYTHON_NUMBERS) | {str, type(None), slice, type(Ellipsis)}
# the selection marks (see ArrayType.selected), and the arrays whose every cotangent is
# treated as selected because their type has no mark
MARKED = set()
UNMARKED_ARRAYS = set()
MAY_HOLD_SELECTED_ZEROS = set()   # the two together: what elementwise pullbacks mask
# array classes whose record forms a masked elementwise pullback in one step -> that function
MASKED_PRODUCTS = {}
# arrays, marked or not, that a cotangent may be accumulated into in place
IN_PLACE = set()
# NumPy functions that some registered array type lacks (ArrayType.lacks)
LACKED = set()
# array classes whose conversion is refused with a message (ArrayType.refusal)
REFUSING_CONVERSION = {}


def register_array_type(record):
    for cls in (record.array, *record.scalars):
        _records[cls] = record
    CONSTANTS.update((record.array, *record.scalars))
    ATOMS.update((record.array, *record.scalars))
    inexact = [s for s in record.scalars if np.dtype(s).kind in "fc"]
    INEXACT_SCALARS.update(inexact)
    INEXACT_NUMBERS.update(inexact)
    ONE_VALUE.update((record.array, *inexact))
    if record.selected is None:
        UNMARKED_ARRAYS.add(record.array)
        if record.masked_product is not None:
            MASKED_PRODUCTS[record.array] = record.masked_product
    else:
        MARKED.add(record.selected)
    MAY_HOLD_SELECTED_ZEROS.update(MARKED | UNMARKED_ARRAYS)
    if record.in_place:
        IN_PLACE.update({record.array, record.selected} - {None})
    LACKED.update(record.lacks)
    if record.refusal is not None:
        REFUSING_CONVERSION[record.array] = record
    return record


class ConversionRefused(Exception):
    """An array of class ``array`` was about to be converted to NumPy's inside its record's
    ``refusing_conversion()``. Whoever entered it says which function did it, with
    ``self.record.refusal(name)``; users never see this exception."""

    def __init__(self, array):
        super().__init__(array)
        self.array = array

    @property
    def record(self):
        return _records[self.array]


def refusing_records(values):
    """The records, among those of the concrete ``values``, that refuse conversion."""
    found = []
    for value in values:
        record = REFUSING_CONVERSION.get(type(concrete(value)))
        if record is not None and record not in found:
            found.append(record)
    return found


def refused(records):
    """One context in which the conversion of arrays of every type of ``records`` is
    refused."""
    guards = [r.refusing_conversion for r in records if r.refusing_conversion is not None]
    if len(guards) == 1:
        return guards[0]()
    stack = contextlib.ExitStack()
    for guard in guards:
        stack.enter_context(guard())
    return stack


def record_of(x):
    """The record of ``x``'s type (exact class, or its nearest registered base), or None."""
    record = _records.get(type(x))
    if record is None:
        for cls in type(x).__mro__[1:]:
            record = _records.get(cls)
            if record is not None:
                break
    return record


def looks_like_an_array(x):
    """An array of some library (it speaks NumPy's dispatch protocols and has a dtype) that
    may or may not have a record."""
    kind = type(x)
    return (hasattr(kind, "__array_function__") or hasattr(kind, "__array_ufunc__")) and (
        hasattr(x, "dtype") and hasattr(x, "shape"))


def of_another_library(x):
    """An array of a registered library other than NumPy (Dask's, CuPy's)."""
    return record_of(x) not in (None, NUMPY) and looks_like_an_array(x)


class SelectedArray(np.ndarray):
    """NumPy's selection mark (see ``ArrayType.selected``). NumPy keeps the subclass through
    arithmetic, so the mark follows a cotangent as far as it matters and costs nothing
    elsewhere; users never see it (gradients are returned as the argument's own type)."""


NUMPY = register_array_type(ArrayType(
    np.ndarray,
    scalars=(np.float64, np.float32, np.float16, np.complex128, np.complex64, np.int64,
             np.int32, np.bool_),
    selected=SelectedArray, asarray=np.asarray, zeros=np.zeros, ones=np.ones, full=np.full, eye=np.eye, tri=np.tri,
    arange=np.arange))


def mark_selected(x):
    """``x`` marked as holding structural zeros: a free view as its type's mark, or ``x``
    itself where there is no mark (or it is no array)."""
    if type(x) is np.ndarray:
        return x.view(SelectedArray)
    record = _records.get(type(x))
    if record is None or record.selected is None or type(x) is not record.array:
        return x
    return x.view(record.selected)


def may_hold_selected_zeros(x):
    """Whether the zeros of the cotangent ``x`` may be structural: it is marked, or of an
    array type without a mark."""
    return type(x) in MAY_HOLD_SELECTED_ZEROS


def without_mark(x):
    """A marked array as its plain type (what users see)."""
    if type(x) in MARKED:
        return x.view(record_of(x).array)
    return x


# Bits of a NumPy array's ``flags.num``. Reading ``flags.writeable`` of an array made by
# np.broadcast_arrays warns (writing into one is deprecated: its elements share memory); the
# bits say the same without the warning.
_WRITEABLE = 0x0400
_WARN_ON_WRITE = 1 << 31


def writeable(x):
    """Whether NumPy array ``x`` may be written into, so that a value kept of it must be a
    copy (an array of np.broadcast_arrays counts: it can still be written)."""
    return x.flags.num & _WRITEABLE != 0


def users_own(x):
    """Whether NumPy array ``x`` can be handed to a user as an array of their own to write
    into: writeable, and not one of np.broadcast_arrays' views of shared elements."""
    return x.flags.num & (_WRITEABLE | _WARN_ON_WRITE) == _WRITEABLE


# ---------------------------------------------------------------------------------------------
# Metadata of any value
# ---------------------------------------------------------------------------------------------

def shape_of(x):
    shape = getattr(x, "shape", None)
    if shape is not None:
        return shape
    return () if type(x) in PYTHON_NUMBERS else np.shape(x)


def size_of(x):
    """The number of elements, read from the array (``np.size`` of a Dask array would convert
    it to NumPy, computing it)."""
    size = getattr(x, "size", None)
    return size if type(size) is int else int(np.size(x))


def dtype_of(x):
    dtype = getattr(x, "dtype", None)
    return dtype if dtype is not None else np.result_type(x)


def is_complex(x):
    return dtype_of(x).kind == "c"


def astype(x, dtype):
    """``x.astype(dtype)`` as a function: the tracer's method calls it through the core's
    door, and the rules for casts are registered for it."""
    return x.astype(dtype) if hasattr(x, "astype") else np.asarray(x).astype(dtype)


# ---------------------------------------------------------------------------------------------
# Constants made like a value
# ---------------------------------------------------------------------------------------------
# Each takes a reference value ``like`` (an array, a NumPy or Python scalar, or a tracer of any
# level: its concrete value is used) and makes a constant, with no derivative, of the kind of
# ``like`` through its record. Values without a record (Python numbers, lists) make NumPy
# arrays. ``shape`` and ``dtype`` default to those of ``like`` where NumPy's ``*_like`` would
# take them from it (zeros, ones, full); eye, tri and arange keep NumPy's own defaults.

def _maker(like, name):
    """``(concrete like, its record's maker called name)``."""
    while isinstance(like, TracedValue):
        like = like._value
    make = getattr(_records.get(type(like)) or record_of(like) or NUMPY, name)
    if make is None:    # NumPy's function dispatched on the reference (NEP 35)
        function = getattr(np, name)

        def make(*args, **kwargs):
            return function(*args, like=like, **kwargs)
    return like, make


def zeros_like_value(like, shape=None, dtype=None):
    like, zeros = _maker(like, "zeros")
    return zeros(shape_of(like) if shape is None else shape,
                 dtype_of(like) if dtype is None else dtype)


def ones_like_value(like, shape=None, dtype=None):
    like, ones = _maker(like, "ones")
    return ones(shape_of(like) if shape is None else shape,
                dtype_of(like) if dtype is None else dtype)


def full_like_value(like, fill_value, shape=None, dtype=None):
    like, full = _maker(like, "full")
    return full(shape_of(like) if shape is None else shape, fill_value,
                dtype_of(like) if dtype is None else dtype)


def eye_like(rows, like, *, columns=None, k=0, dtype=None):
    """``np.eye(rows, columns, k, dtype)`` of the kind of ``like`` (float64 by default)."""
    return _maker(like, "eye")[1](rows, columns, k, float if dtype is None else dtype)


def tri_like(rows, like, *, columns=None, k=0, dtype=None):
    """``np.tri(rows, columns, k, dtype)`` of the kind of ``like`` (float64 by default)."""
    return _maker(like, "tri")[1](rows, columns, k, float if dtype is None else dtype)


def arange_like(stop, like, dtype=None):
    """``np.arange(stop, dtype=dtype)`` of the kind of ``like``."""
    return _maker(like, "arange")[1](stop, dtype=dtype)


def of_numpy_kind(x):
    """Whether ``x`` is NumPy's (an array, a subclass, a scalar) or a Python number, as
    opposed to an array of another registered library."""
    record = _records.get(type(x))
    return record is NUMPY or record is None and (record_of(x) or NUMPY) is NUMPY


def placed_like(like, index, values, shape, dtype):
    """Zeros of ``shape`` and ``dtype`` with ``values`` added at ``index`` (repeated positions
    add up), of the kind of ``like``."""
    like = concrete(like)
    record = _records.get(type(like)) or record_of(like)
    if record is not None and record.placed is not None:
        return record.placed(shape, dtype, index, values)
    dense = zeros_like_value(like, shape, dtype)
    np.add.at(dense, index, values)
    return dense


def broadcast_like(value, shape, like):
    """``np.broadcast_to(value, shape)``, laid out as ``like`` where its array type says how
    (``ArrayType.broadcast_to``)."""
    if not isinstance(value, TracedValue):
        like = concrete(like)
        record = _records.get(type(like))
        if record is not None and record.broadcast_to is not None:
            return record.broadcast_to(value, shape, like)
    return np.broadcast_to(value, shape)


def implementation(fn, like):
    """The function that computes NumPy's ``fn`` on arrays of the kind of ``like``: ``fn``
    itself unless the type's record says otherwise (``ArrayType.functions``). A tracer gets
    ``fn``: the call goes through the engine, whose rule meets the concrete array."""
    if isinstance(like, TracedValue):
        return fn
    record = _records.get(type(like))
    return fn if record is None else record.functions.get(fn, fn)


def lacking(fn, values):
    """The reason the library of one of ``values`` (concrete arrays) has no ``fn``, or None."""
    for value in values:
        record = _records.get(type(value))
        if record is not None and fn in record.lacks:
            return record.lacks[fn]
    return None


def of_the_kind_of(value, like):
    """``value`` as an array of the kind of ``like``, unless it is of that kind already
    (NumPy's scalars and Python numbers are NumPy's kind): a NumPy cotangent of a Dask
    argument becomes a Dask array; a Dask cotangent of a NumPy argument is computed."""
    value_record = record_of(concrete(value)) or NUMPY
    if value_record is (record_of(concrete(like)) or NUMPY):
        return value
    return asarray_like(value, like)


def asarray_like(value, like=None, dtype=None):
    """The concrete ``value`` as an array of the kind of ``like`` (by default, of its own
    kind): ``np.asarray(value, dtype)`` for NumPy."""
    value = concrete(value)
    if isinstance(value, StagedValue) and (like is None or record_of(concrete(like)) is
                                           record_of(value)):
        return value if dtype is None else astype(value, dtype)   # staged by wg.compile
    return _maker(value if like is None else like, "asarray")[1](value, dtype)
