"""The values of the staging level (core/staging.py): an array kind of its own.

A ``StagingTracer`` holds a concrete value and the ``Ref`` the program names it by. Every
NumPy call on it is handed to its level, which records a line; ``bool()``, ``int()``,
``float()`` and ``.item()`` record a guard; comparisons are lines like any other. To every
other level it is an array of a registered kind, not a ``TracedValue``.
"""
import contextvars
import operator

import numpy as np

from ..arraytypes import (ArrayType, SelectedArray, StagedValue, of_another_library, record_of,
                          register_array_type)
from ..errors import DifferentiationError, name_of
from .levels import Tracer
from .protocol import MADE_LIKE, ArrayMethods

# Functions that read only shapes and dtypes, fixed by the signature: answered at once, not
# recorded.
METADATA = {np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj,
            np.can_cast, np.min_scalar_type}

# The staging level tracing now in this thread (or task), or None: constants made like a
# staged value (np.zeros of its shape, ...) are lines of it, fresh in every run.
_tracing = contextvars.ContextVar("wengert_staging", default=None)


def tracing():
    """The staging level that is tracing, or None."""
    return _tracing.get()


def begin_tracing(level):
    return _tracing.set(level)


def end_tracing(token):
    _tracing.reset(token)


def _made_by(make):
    def made(*args, **kwargs):
        return _tracing.get().process(make, args, kwargs)
    return made


class Opaque:
    """A value of the program that is no array (a rule's pullback closure): passed along by
    its Ref, its concrete object used while tracing."""

    __slots__ = ("_value", "_ref")

    def __init__(self, value, ref):
        self._value = value
        self._ref = ref


def concrete_tree(x):
    """``x`` with staged values replaced by their concrete values."""
    kind = type(x)
    if kind in STAGING or kind is Opaque:
        return x._value
    if kind is tuple or kind is list:
        return kind(concrete_tree(v) for v in x)
    if kind is dict:
        return {k: concrete_tree(v) for k, v in x.items()}
    return x


def unsupported(fn, why):
    where = f"{name_of(fn)}: " if fn is not None else ""
    return DifferentiationError(
        f"wg.compile cannot stage this call ({where}{why}). Mark the function that does it "
        "with wg.primitive (it is then called as it is from the compiled program), or call "
        "the uncompiled function.")


# -- the tracer ---------------------------------------------------------------------------------


def _conversion(kind):
    def convert(self, *args):
        return self._level.guard(self, kind)
    return convert


def _binary_staged(ufunc):
    """An operator recorded as a line; a comparison too (a staged boolean array: where a
    decision is taken on it, ``bool()`` guards it)."""
    def operate(self, other):
        if isinstance(other, Tracer):
            return NotImplemented
        return self._level.process(ufunc, (self, other), {})
    return operate


def _in_place(ufunc):
    """``x += v``: in place where the concrete value is an array, as NumPy does it."""
    def method(self, other):
        if isinstance(self._value, np.ndarray) and not isinstance(other, Tracer):
            self._level.process(ufunc, (self, other), {"out": self}, effect=True)
            return self
        return ufunc(self, other)
    return method


class StagingTracer(ArrayMethods, StagedValue):
    """A staged value: its concrete ``_value`` and the ``_ref`` the program names it by."""

    __slots__ = ("_value", "_level", "_ref")

    def __init__(self, value, level, ref):
        self._value = value
        self._level = level
        self._ref = ref

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if any(isinstance(x, Tracer) for x in inputs) or any(
                isinstance(x, Tracer) for x in (() if out is None else out)):
            return NotImplemented   # an inner level's tracer takes the call
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        if "out" in kwargs and kwargs["out"] is not None:
            self._level.process(fn, inputs, dict(kwargs), effect=True)
            outputs = [self._level.buffer(o) for o in kwargs["out"]]   # acc += x binds it
            return outputs[0] if len(outputs) == 1 else tuple(outputs)
        kwargs.pop("out", None)
        return self._level.process(fn, inputs, kwargs, effect=method == "at")

    def __array_function__(self, func, types, args, kwargs):
        for t in types:
            if issubclass(t, Tracer):
                return NotImplemented   # an inner level's tracer takes the call
        if func in METADATA:
            return func(*concrete_tree(args), **concrete_tree(kwargs))
        if func in MADE_LIKE and type(self) in FOREIGN:   # np.eye(n, like=x) of a CuPy x
            kwargs = {**kwargs, "like": self._value}     # (NumPy hands it over without like)
        out = kwargs.get("out") if kwargs else None
        result = self._level.process(func, args, kwargs, effect=out is not None)
        return result if out is None else self._level.buffer(out)

    def __array__(self, *args, **kwargs):
        if self._level.plain():   # a line's own function reads an array it closes over
            return np.asarray(self._value, *args, **kwargs)
        raise DifferentiationError(
            "np.asarray (or np.array, or a library function that converts its arguments) "
            "was called on a value traced by wg.compile: the compiled program cannot see "
            "what is done with the plain array. Use NumPy functions on the value, or mark "
            "the function that converts it with wg.primitive.")

    __bool__ = _conversion("bool")
    __float__ = _conversion("float")
    __int__ = __index__ = _conversion("int")
    __complex__ = _conversion("complex")

    def item(self, *index):
        """``x.item()``, ``x.item(k)`` (by flat position) or ``x.item(i, j)``: a guard."""
        if not index:
            return self._level.guard(self, "item")
        if len(index) == 1 and not isinstance(index[0], tuple):
            return np.ravel(self)[index[0]].item()
        return self[index if len(index) > 1 else index[0]].item()

    def tolist(self):
        return self._level.guard(self, "item") if np.ndim(self._value) == 0 else [
            v.tolist() for v in self]

    __lt__ = _binary_staged(np.less)
    __le__ = _binary_staged(np.less_equal)
    __gt__ = _binary_staged(np.greater)
    __ge__ = _binary_staged(np.greater_equal)
    __eq__ = _binary_staged(np.equal)
    __ne__ = _binary_staged(np.not_equal)
    __and__ = __rand__ = _binary_staged(np.bitwise_and)
    __or__ = __ror__ = _binary_staged(np.bitwise_or)
    __xor__ = __rxor__ = _binary_staged(np.bitwise_xor)

    def __invert__(self):
        return self._level.process(np.invert, (self,), {})

    __iadd__ = _in_place(np.add)
    __isub__ = _in_place(np.subtract)
    __imul__ = _in_place(np.multiply)
    __itruediv__ = _in_place(np.true_divide)

    def __round__(self, ndigits=None):
        return round(self._level.guard(self, "item"), ndigits)

    # Printing while tracing shows the value traced with (printing takes no decision).
    def __repr__(self):
        return f"StagingTracer({self._value!r})"

    def __str__(self):
        return str(self._value)

    def __format__(self, spec):
        return format(self._value, spec)

    shape = property(lambda self: np.shape(self._value))
    ndim = property(lambda self: np.ndim(self._value))
    size = property(lambda self: np.size(self._value))
    dtype = property(lambda self: np.result_type(self._value))
    flags = property(lambda self: self._value.flags)
    nbytes = property(lambda self: np.asarray(self._value).nbytes)
    itemsize = property(lambda self: np.asarray(self._value).itemsize)
    base = None

    def __len__(self):
        return len(self._value)

    def __getitem__(self, index):
        return self._level.process(operator.getitem, (self, index), {})

    def __setitem__(self, index, value):
        if isinstance(value, Tracer):
            raise unsupported(operator.setitem, "it writes a value of a transformation "
                                                 "that is still running into a compiled array")
        self._level.process(operator.setitem, (self, index, value), {}, effect=True)

    def fill(self, value):
        self[...] = value

    @property
    def flat(self):
        return _Flat(self)

    def view(self, dtype=None, type=None):
        kind = type if type is not None else dtype
        if isinstance(kind, _CLASS) and issubclass(kind, StagingTracer):
            # marking a cotangent selected, or taking the mark off: free, no line
            value = self._value
            if isinstance(value, np.ndarray):
                value = value.view(SelectedArray if kind is StagingSelected else np.ndarray)
            return kind(value, self._level, self._ref)
        return self._level.process(_view, (self, dtype, type), {})

    def astype(self, dtype, copy=True, **kwargs):
        return self._level.process(_astype, (self, np.dtype(dtype)), {})

    def copy(self, order="C"):
        return self._level.process(np.copy, (self,), {"order": order})

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()


class _Flat:
    """``x.flat`` of a staged array: reads and writes by flat position, as lines."""

    def __init__(self, base):
        self.base = base

    def __getitem__(self, index):
        return np.ravel(self.base)[index]

    def __setitem__(self, index, value):
        shape = self.base.shape
        self.base[np.unravel_index(np.arange(int(np.prod(shape)))[index], shape)] = value


class StagingSelected(StagingTracer):
    """A staged cotangent whose zeros are structural (NumPy's ``SelectedArray``, staged)."""

    __slots__ = ()


def _view(x, dtype, kind):
    return x.view(*(a for a in (dtype, kind) if a is not None))


def _astype(x, dtype):
    return x.astype(dtype) if hasattr(x, "astype") else np.asarray(x).astype(dtype)


def _staged_asarray(kind, make):
    """A staged kind's ``asarray``: a staged value of that kind as it is, another value
    converted by the library's ``make`` in a line of the program."""
    def asarray(value, dtype=None):
        if type(value) is kind or type(value) is StagingSelected and kind is StagingTracer:
            return value if dtype is None or value.dtype == dtype else value.astype(dtype)
        return _tracing.get().process(make, (value,), {} if dtype is None else
                                      {"dtype": dtype})
    return asarray


STAGING = {StagingTracer, StagingSelected}
_CLASS = type

# To every other level a staged value is an array of its own kind: constants made like it are
# lines of the program, and its cotangents are never accumulated in place.
register_array_type(ArrayType(
    StagingTracer, in_place=False, selected=StagingSelected,
    asarray=_staged_asarray(StagingTracer, np.asarray),
    zeros=_made_by(np.zeros), ones=_made_by(np.ones), full=_made_by(np.full),
    eye=_made_by(np.eye), tri=_made_by(np.tri), arange=_made_by(np.arange)))


# -- the arrays of other libraries (Dask's, CuPy's) -------------------------------------------

# concrete value class -> the staged class that carries it (made when first met)
_KINDS = {SelectedArray: StagingSelected, np.ndarray: StagingTracer}
FOREIGN = set()   # the staged classes of other libraries' arrays


def staged_class(value):
    """The staged class for a concrete value: NumPy's, or the one made for its library."""
    kind = _KINDS.get(type(value))
    if kind is None:
        kind = _staged_kind(record_of(value)) if of_another_library(value) else StagingTracer
        _KINDS[type(value)] = kind
    return kind


def _staged_kind(record):
    """A staged class for the arrays of ``record``'s library, with a record that makes that
    library's arrays, places and multiplies as it does and computes NumPy's functions as it
    does (``ArrayType.functions``), each call a line of the program."""
    kind = _CLASS(f"Staging{record.array.__name__}", (StagingTracer,), {"__slots__": ()})
    STAGING.add(kind)
    FOREIGN.add(kind)

    library = record.array.__module__.partition(".")[0]

    def line(name):
        make = getattr(record, name)
        if make is None:
            return None

        def made(*args, **kwargs):   # named for the program's source: dask_zeros(...)
            return make(*args, **kwargs)
        made.__name__ = f"{library}_{name}"
        return _made_by(made)

    register_array_type(ArrayType(
        kind, in_place=False, asarray=_staged_asarray(kind, record.asarray),
        zeros=line("zeros"), ones=line("ones"), full=line("full"), eye=line("eye"),
        tri=line("tri"), arange=line("arange"), placed=line("placed"),
        broadcast_to=line("broadcast_to"), masked_product=_unless_none(line("masked_product")),
        lacks=record.lacks,
        functions={fn: _made_by(impl) for fn, impl in record.functions.items()}))
    return kind


def _unless_none(made):
    """``made``, whose line is taken back where it answers None (a masked product that
    cannot be formed in one step, which the caller then forms from the arrays: that is
    decided by the partial, the same in every run)."""
    if made is None:
        return None

    def product(*args, **kwargs):
        lines = _tracing.get().lines
        count = len(lines)
        result = made(*args, **kwargs)
        if result is None:
            del lines[count:]
        return result
    return product
