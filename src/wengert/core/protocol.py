"""How a tracer looks like a NumPy array: the protocols, operators, attributes and methods.

Every operation becomes a call of the NumPy function it stands for, sent through ``bind``.
Operands of types wengert does not know (not arrays, NumPy scalars, Python numbers or
tracers) make the method return ``NotImplemented``, so their own implementation runs.
"""
import operator
import sys

import numpy as np

from ..arraytypes import CONSTANTS, INEXACT_SCALARS as _ONE_ELEMENT, LACKED, astype, dtype_of
from ..arraytypes import asarray_like, lacking, of_numpy_kind, size_of
from .bind import bind, operator_door, register_tracer_class, strip, ufunc_door, unary_door
from .callers import unreached_call_message
from .views import Flat as _Flat, view as _view
from .mutation import SPECIAL_FUNCTIONS, as_view, assign, in_place, into_outputs
from .mutation import out_of_plain_error as into_outputs_error
from .levels import Tracer, primal
from ..errors import WAYS_OUT, DifferentiationError
from ..errors import name_of
from ..registry import forward_rules, reverse_rules

# Exact types an operator may combine with a tracer; anything else is checked by
# ``_is_foreign`` (subclasses of these, lists) or deferred to.
_PLAIN = CONSTANTS
_KNOWN = set(_PLAIN)   # tracer classes join it as they are defined


def _is_foreign(x):
    t = type(x)
    if t in _KNOWN or t in CONSTANTS or isinstance(x, Tracer):
        return False   # CONSTANTS: array types registered after this module (Dask's)
    return not isinstance(x, (np.ndarray, np.generic, int, float, complex, list, tuple))


def _as_operand(x, fn, tracer):
    """An operand of a type outside ``_KNOWN`` as NumPy sees it: ``NotImplemented`` for a
    foreign type (so that its own implementation runs) unless a rule for ``fn`` names that
    type, an array for a list or tuple (rules compute with their arguments and expect arrays,
    not Python sequences), of the library of the ``tracer`` it meets (CuPy's arrays refuse
    NumPy's)."""
    if _is_foreign(x):
        return x if _rule_names(fn, type(x)) else NotImplemented
    if type(x) not in _SEQUENCE_TYPES:
        return x
    value = primal(tracer)
    if of_numpy_kind(value) or isinstance(value, Tracer):   # NumPy's, or nested
        return np.asarray(x)
    return asarray_like(x, value)   # another library's, or staged (a line making it)


# NumPy's functions that make an array of the kind of ``like=``. Given a tracer as ``like``,
# NumPy calls its __array_function__ without it: the library of the value beneath then makes
# the array, as ``np.eye(n, like=x)`` asks (NumPy's own path is bind's; a staged value passes
# ``like`` on in its line).
MADE_LIKE = frozenset(getattr(np, name) for name in (
    "eye", "identity", "ones", "zeros", "empty", "full", "arange", "tri", "array", "asarray",
    "asanyarray", "ascontiguousarray", "asfortranarray", "require", "fromfunction",
    "fromiter", "frombuffer", "fromstring", "fromfile", "loadtxt", "genfromtxt")
    if hasattr(np, name))


def _made_like(tracer, func, args, kwargs):
    like = primal(tracer)
    if isinstance(like, Tracer) or type(like) is np.ndarray or any(
            isinstance(a, Tracer) for a in args):
        return bind(func, args, kwargs)
    return func(*args, like=like, **kwargs)


def _refuse_lacking(func, args):
    """A function the array library of a traced value does not implement: an error, not a
    silent conversion to NumPy (which would compute a lazy array)."""
    reason = lacking(func, [primal(a) for a in args if isinstance(a, Tracer)]
                     + [a for a in args if type(a) in CONSTANTS])
    if reason is not None:
        raise DifferentiationError(f"{name_of(func)}: {reason} {WAYS_OUT}")


def _rule_names(fn, cls):
    return reverse_rules.names(fn, cls) or forward_rules.names(fn, cls)


_SEQUENCE_TYPES = (list, tuple)


def _binary(ufunc):
    return operator_door(ufunc, _as_operand), operator_door(ufunc, _as_operand, reflected=True)


def _comparison(ufunc):
    """Comparisons give plain booleans of the values, so control flow works on tracers."""
    def compare(self, other):
        if type(other) not in _KNOWN and _is_foreign(other):
            return NotImplemented
        return ufunc(primal(self), strip(other))

    return compare


# NumPy converts a value written into a plain array (buf[i] = t) this way, and no protocol
# lets wengert see that write: the way out is named in every conversion's message.
_PLAIN_TARGET = (
    "If this came from writing a traced value into a plain array (buf = np.zeros(n); "
    "buf[i] = t), make the array traced: buf = np.zeros_like(t) or np.zeros_like(x) of a "
    "traced x (then buf[i] = t is differentiated), or build it from traced values with "
    "np.stack([...]).")


def _concrete_conversion(what, hint=""):
    def method(self, *args, **kwargs):
        raise DifferentiationError(
            f"{what} was called on a traced value (a {type(primal(self)).__name__} being "
            f"differentiated): its derivative would be lost.{hint} Keep the computation in "
            "NumPy functions that wengert traces, or take the value out on purpose with "
            f"wg.stop_gradient(x). {_PLAIN_TARGET} {WAYS_OUT}"
        )

    return method


def _method(fn):
    """``x.name(*args, **kwargs)`` → ``fn(x, *args, **kwargs)`` through the NumPy protocol."""
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)

    method.__name__ = getattr(fn, "__name__", "method")
    return method


class ArrayMethods:
    """Mixed into every tracer class."""

    __slots__ = ()
    __array_priority__ = 1000
    __hash__ = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _KNOWN.add(cls)   # tracers combine with tracers without the slower foreign check
        register_tracer_class(cls)

    # -- the NumPy protocols --------------------------------------------------------------
    def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
        """NumPy's ufunc protocol, past the door's commonest call (see ``ufunc_door``)."""
        sequences = False
        for x in inputs:
            if type(x) not in _KNOWN:
                if (_is_foreign(x) and getattr(type(x), "__array_ufunc__", None) is not None
                        and not _rule_names(ufunc, type(x))):
                    return NotImplemented
                sequences = sequences or type(x) in _SEQUENCE_TYPES
        if sequences:
            inputs = tuple(np.asarray(x) if type(x) in _SEQUENCE_TYPES else x for x in inputs)
        outputs = kwargs.pop("out", None) if kwargs else None
        if method == "__call__":
            result = bind(ufunc, inputs, kwargs)
        else:
            handler = _UFUNC_METHODS.get(method)
            if handler is None:
                raise DifferentiationError(
                    f"np.{ufunc.__name__}.{method} on a traced value has no rule. Use the "
                    f"equivalent NumPy function (np.sum, np.cumsum, ...). {WAYS_OUT}"
                )
            result = handler(ufunc, *inputs, **kwargs)
        if outputs is None or all(o is None for o in outputs):
            return result
        # out=x of a traced x: computed without it, then moved into x (core/mutation.py)
        return into_outputs(outputs, result, f"np.{ufunc.__name__}")

    __array_ufunc__ = ufunc_door(_array_ufunc)

    def __array_function__(self, func, types, args, kwargs):
        for t in types:
            if not (issubclass(t, (ArrayMethods, np.ndarray)) or t in CONSTANTS
                    or _rule_names(func, t)):
                return NotImplemented   # (ArrayMethods: a tracer, staged values included)
        if func in LACKED:
            _refuse_lacking(func, args)
        special = SPECIAL_FUNCTIONS.get(func)   # views, and arrays made to be written into
        if kwargs and "out" in kwargs:
            # out=None is the default spelled out: rules need not accept it. A plain out= is
            # refused (into_outputs): the rule would fill the caller's array with plain
            # values, which later code could read with the derivative silently gone.
            outputs = kwargs["out"]
            kwargs = {k: v for k, v in kwargs.items() if k != "out"}
            if outputs is not None:
                if not any(isinstance(o, Tracer) for o in
                           (outputs if type(outputs) is tuple else (outputs,))):
                    raise into_outputs_error(name_of(func))
                result = bind(func, args, kwargs) if special is None else special(*args, **kwargs)
                return into_outputs(outputs, result, name_of(func))
        if special is not None:
            return special(*args, **kwargs)
        if func in MADE_LIKE:
            return _made_like(self, func, args, kwargs)
        return bind(func, args, kwargs)

    # -- conversions that would drop the derivative ----------------------------------------
    # NumPy lets no one intercept np.array, nor look for tracers inside nested lists.
    _asarray = _concrete_conversion(
        "np.asarray / np.array (__array__)",
        " To build an array from traced values, np.array([a, b]) or a list nested in a "
        "list (np.concatenate([[a], b])), use np.stack([a, b]) or np.concatenate of arrays.")

    def __array__(self, *args, **kwargs):
        message = unreached_call_message(sys._getframe(1))   # a SciPy function's asarray?
        if message is not None:
            raise DifferentiationError(message)
        self._asarray()
    # NumPy reports a failed float() inside np.fromiter (and np.array(..., dtype=float)) of
    # traced values as "ValueError: setting an array element with a sequence", with this
    # error as its cause: no protocol lets wengert see those calls, so the way out is named
    # here.
    __float__ = _concrete_conversion(
        "float() (or a math-module function such as math.exp, which calls float(); use "
        "np.exp and friends instead; or np.fromiter of traced values, which calls it on each: "
        "use np.stack(list_of_values) or the traced array itself instead)")
    __int__ = _concrete_conversion("int()")
    __complex__ = _concrete_conversion("complex()")
    __index__ = _concrete_conversion("use as an index (__index__)")
    item = _concrete_conversion(".item()")
    tolist = _concrete_conversion(".tolist()")
    tobytes = _concrete_conversion(".tobytes()")

    def __setitem__(self, index, value):
        assign(self, index, value, "x[...] = v" if index is Ellipsis else "x[i] = v")

    def fill(self, value):
        assign(self, Ellipsis, value, "x.fill(v)")

    # x += v and friends write into the tracer object itself (core/mutation.py)
    __iadd__ = in_place(np.add, "+")
    __isub__ = in_place(np.subtract, "-")
    __imul__ = in_place(np.multiply, "*")
    __itruediv__ = in_place(np.true_divide, "/")
    __ifloordiv__ = in_place(np.floor_divide, "//")
    __imod__ = in_place(np.remainder, "%")
    __ipow__ = in_place(np.power, "**")
    __imatmul__ = in_place(np.matmul, "@")

    def __round__(self, ndigits=None):
        # Piecewise constant, so no derivative is lost: the plain value, exactly what
        # round() gives without tracing (an int for a scalar).
        return round(primal(self), ndigits)

    def __bool__(self):
        # Control flow on values is fine: a branch has no derivative to lose.
        return bool(primal(self))

    # Printing shows the value being differentiated, as it would print without wengert.
    def __repr__(self):
        return f"{type(self).__name__}({primal(self)!r})"

    def __str__(self):
        return str(primal(self))

    def __format__(self, spec):
        return format(primal(self), spec)

    # -- attributes -----------------------------------------------------------------------
    shape = property(lambda self: np.shape(primal(self)))
    ndim = property(lambda self: np.ndim(primal(self)))
    size = property(lambda self: size_of(primal(self)))
    dtype = property(lambda self: dtype_of(primal(self)))
    T = property(lambda self: np.transpose(self))
    mT = property(lambda self: np.swapaxes(self, -1, -2))
    real = property(lambda self: np.real(self))
    imag = property(lambda self: np.imag(self))
    nbytes = property(lambda self: _metadata(primal(self), "nbytes"))
    itemsize = property(lambda self: _metadata(primal(self), "itemsize"))
    flat = property(lambda self: _Flat(self))

    def __len__(self):
        return len(primal(self))

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, index):
        out = bind(operator.getitem, (self, index))
        if type(getattr(out, "_value", None)) in _ONE_ELEMENT:
            return out   # x[i] of a vector, read in loops: a scalar, no view
        return as_view(self, out, index)   # a basic index makes a view, kept for writes

    # -- operators ------------------------------------------------------------------------
    __add__, __radd__ = _binary(np.add)
    __sub__, __rsub__ = _binary(np.subtract)
    __mul__, __rmul__ = _binary(np.multiply)
    __truediv__, __rtruediv__ = _binary(np.true_divide)
    __floordiv__, __rfloordiv__ = _binary(np.floor_divide)
    __mod__, __rmod__ = _binary(np.remainder)
    __pow__, __rpow__ = _binary(np.power)
    __matmul__, __rmatmul__ = _binary(np.matmul)
    __lt__ = _comparison(np.less)
    __le__ = _comparison(np.less_equal)
    __gt__ = _comparison(np.greater)
    __ge__ = _comparison(np.greater_equal)
    __eq__ = _comparison(np.equal)
    __ne__ = _comparison(np.not_equal)
    __neg__ = unary_door(np.negative)
    __pos__ = unary_door(np.positive)
    __abs__ = unary_door(np.absolute)

    # -- methods: each is the NumPy function of the same name --------------------------------
    sum = _method(np.sum)
    mean = _method(np.mean)
    prod = _method(np.prod)
    max = _method(np.max)
    min = _method(np.min)
    var = _method(np.var)
    std = _method(np.std)
    cumsum = _method(np.cumsum)
    cumprod = _method(np.cumprod)
    dot = _method(np.dot)
    trace = _method(np.trace)
    diagonal = _method(np.diagonal)
    swapaxes = _method(np.swapaxes)
    squeeze = _method(np.squeeze)
    ravel = _method(np.ravel)
    repeat = _method(np.repeat)
    take = _method(np.take)
    clip = _method(np.clip)
    round = _method(np.round)
    conj = conjugate = _method(np.conjugate)
    all = _method(np.all)
    any = _method(np.any)
    argmax = _method(np.argmax)
    argmin = _method(np.argmin)
    argsort = _method(np.argsort)
    nonzero = _method(np.nonzero)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        # order= only when asked: some array libraries' reshape (Dask's) has none
        return np.reshape(self, shape) if order == "C" else np.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def compress(self, condition, axis=None, out=None):
        return np.compress(condition, self, axis=axis, out=out)

    def view(self, dtype=None, type=None):
        return _view(self, dtype, type)

    def flatten(self, order="C"):
        return np.ravel(self, order=order).copy()

    def copy(self, order="C"):
        return np.copy(self, order=order)

    def astype(self, dtype, copy=True, **kwargs):
        return bind(astype, (self, np.dtype(dtype)))

    # copy.copy(x) is a copy in NumPy: a write into one must not reach the other
    def __copy__(self):
        return np.copy(self)

    def __deepcopy__(self, memo):
        return np.copy(self)


def _metadata(value, name):
    """An attribute that describes the value and carries no derivative (nbytes, itemsize);
    a Python number answers as the NumPy scalar it becomes."""
    found = getattr(value, name, None)
    return found if found is not None else getattr(np.asarray(value), name)


# -- ufunc methods other than __call__, as the NumPy functions they amount to ---------------
def _reduce(ufunc, x, axis=0, dtype=None, keepdims=False, **kwargs):
    fn = {np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min}.get(ufunc)
    if fn is None or kwargs:
        raise DifferentiationError(f"np.{ufunc.__name__}.reduce on a traced value has no rule.")
    extra = {"dtype": dtype} if dtype is not None and fn in (np.sum, np.prod) else {}
    return fn(x, axis=axis, keepdims=keepdims, **extra)


def _accumulate(ufunc, x, axis=0, dtype=None, **kwargs):
    fn = {np.add: np.cumsum, np.multiply: np.cumprod}.get(ufunc)
    if fn is None or kwargs:
        raise DifferentiationError(
            f"np.{ufunc.__name__}.accumulate on a traced value has no rule.")
    return fn(x, axis=axis, dtype=dtype)


def _outer(ufunc, a, b, **kwargs):
    a_shape = np.shape(primal(a))
    b_ndim = np.ndim(primal(b))
    return ufunc(np.reshape(a, a_shape + (1,) * b_ndim), b, **kwargs)


_UFUNC_METHODS = {"reduce": _reduce, "accumulate": _accumulate, "outer": _outer}
