"""Tangent and cotangent types and all the arithmetic on them.

One zero family: ``Zero`` (a tangent known to be zero, free everywhere) and ``NoTangent``
(the argument has no tangent space at all, e.g. an index). ``Indexed`` holds values placed
at an index of an otherwise-zero array; ``OneHot`` is the unit case of it. Both stay sparse
until something needs a dense array. ``Tangent`` mirrors an object field by field.
"""
import numpy as np

from .arraytypes import (IN_PLACE, RECORDED, StagedValue, concrete, dtype_of, mark_selected,
                         of_numpy_kind, placed_like, zeros_like_value)


class Zero:
    """A tangent (or cotangent) known to be zero, at no cost; ``Zero()`` is the one instance.

    It takes part in arithmetic without becoming an array (``Zero() + t`` is ``t``,
    ``a * Zero()`` is ``Zero()``); ``bool(Zero())`` is False. A pullback returns it for an
    argument that does not influence the output, a forward rule receives it for an argument
    with no tangent at this level, and ``wg.jvp`` takes it (or None) for one that does not move.

    >>> import wengert as wg
    >>> print(2 * wg.Zero() + 3.0, wg.Zero() is wg.Zero())
    3.0 True
    """

    __slots__ = ()
    _instance = None
    # ndarray + Zero() defers to Zero.__radd__ instead of building an object array.
    __array_ufunc__ = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "Zero()"

    def __bool__(self):
        return False

    def __add__(self, other):
        return other

    __radd__ = __add__

    def __sub__(self, other):
        return -other

    def __rsub__(self, other):
        return other

    def __mul__(self, other):
        return self

    __rmul__ = __matmul__ = __rmatmul__ = __mul__

    def __neg__(self):
        return self

    def __reduce__(self):
        return (Zero, ())


class NoTangent:
    """The cotangent of an argument with no tangent space (an index, a flag, a shape): a rule's
    pullback returns it for such arguments, and gradients show None there. One instance."""

    __slots__ = ()
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "NoTangent()"

    def __bool__(self):
        return False

    def __reduce__(self):
        return (NoTangent, ())


ZERO = Zero()
NO_TANGENT = NoTangent()


def selected(ct):
    """Mark ``ct`` as holding structural zeros (see ``arraytypes.ArrayType.selected``): free,
    a view."""
    return mark_selected(ct)


def is_zero(t):
    """True for the tangents that carry nothing (Zero, NoTangent)."""
    return t is ZERO or t is NO_TANGENT


def zero_for_none(t):
    """A user's None (an absent tangent or cotangent, as JAX and Zygote spell it) as Zero:
    read once where user values enter, so the engine's zeros are Zero and NoTangent only."""
    return ZERO if t is None else t


def _zeros_for(values, shape, dtype):
    """Zeros to scatter traced ``values`` into: NumPy's, unless the values beneath the tracers
    are another library's (CuPy's refuse to meet NumPy's arrays)."""
    beneath = concrete(values)
    if isinstance(beneath, StagedValue) or of_numpy_kind(beneath):
        return np.zeros(shape, dtype)
    return zeros_like_value(beneath, shape, dtype)


def _no_traced_scatter(*args):   # pragma: no cover - replaced when the rules load
    raise RuntimeError("the indexing rules are not loaded")


_traced_scatter = _no_traced_scatter


def use_traced_scatter(scatter_add):
    """Nested differentiation makes sparse tangents dense with a scatter that the outer level
    traces: the indexing rules provide it (``scatter_add(zeros, index, values)``)."""
    global _traced_scatter
    _traced_scatter = scatter_add


class Indexed:
    """``values`` placed at ``index`` of a zero array of ``shape`` (and ``dtype``).

    This is what indexing's pullback returns, so that reading every element of a vector in a
    Python loop costs O(1) per read instead of one dense zero array per read."""

    __slots__ = ("index", "values", "shape", "dtype")

    def __init__(self, index, values, shape, dtype):
        self.index = index
        self.values = values
        self.shape = shape if type(shape) is tuple else tuple(shape)
        self.dtype = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)

    def __repr__(self):
        return f"{type(self).__name__}(index={self.index!r}, shape={self.shape})"

    def to_dense(self):
        if isinstance(self.values, RECORDED):
            # Nested differentiation: the scatter itself must be traced by the outer level.
            return _traced_scatter(_zeros_for(self.values, self.shape, self.dtype),
                                   self.index, self.values)
        dtype = np.result_type(self.dtype, dtype_of(self.values))
        if not of_numpy_kind(self.values):   # another library's values (Dask's), placed by it
            return placed_like(self.values, self.index, self.values, self.shape, dtype)
        dense = np.zeros(self.shape, dtype)
        add_at(dense, self.index, self.values)
        return mark_selected(dense)


class OneHot(Indexed):
    """A unit basis tangent: one 1 at ``index`` in an array of ``shape``, stored without its zeros.

    ``index`` is a flat position (negative counts from the end) or one position per axis of
    ``shape``, stored as a tuple of non-negative positions (an IndexError if out of range);
    ``dtype`` should be the argument's. As a tangent of ``wg.jvp`` it stays sparse through
    elementwise operations, indexing and the 2-norm, so one column of a Jacobian costs about
    one evaluation of the function (``wg.partial`` uses it).

    >>> import numpy as np, wengert as wg
    >>> print(wg.OneHot(5, (2, 3)).index)
    (1, 2)
    >>> print(wg.jvp(np.exp, (np.zeros(3),), (wg.OneHot(1, (3,)),))[1])
    [0. 1. 0.]
    """

    __slots__ = ()

    def __init__(self, index, shape, dtype=np.float64):
        shape = tuple(int(n) for n in shape)
        super().__init__(_unit_position(index, shape), np.ones((), dtype), shape, dtype)

    def __eq__(self, other):
        return (
            isinstance(other, OneHot)
            and other.index == self.index
            and other.shape == self.shape
        )

    __hash__ = None


def _unit_position(index, shape):
    """The position of a OneHot as non-negative Python ints, one per axis. One integer is a
    flat position (the k-th element of x.flat); negative positions count from the end."""
    if isinstance(index, (int, np.integer)) and not isinstance(index, (bool, np.bool_)):
        size = int(np.prod(shape))
        if not -size <= int(index) < size:
            raise IndexError(f"OneHot position {int(index)} is out of range for shape {shape}")
        return tuple(int(i) for i in np.unravel_index(int(index) % size, shape))
    parts = index if isinstance(index, tuple) else tuple(np.atleast_1d(index))
    if len(parts) != len(shape):
        raise IndexError(f"OneHot index {index!r} needs one position per axis of shape {shape}")
    for p, n in zip(parts, shape):
        if not -n <= int(p) < n:
            raise IndexError(f"OneHot index {index!r} is out of range for shape {shape}")
    return tuple(int(p) % n for p, n in zip(parts, shape))


class Tangent:
    """The tangent of an object, field by field, for objects that cannot be rebuilt.

    ``Tangent(primal_type, **fields)``: the tangents of some fields of an object of class
    ``primal_type``, by name (the others are zero); read them as attributes or items. A
    gradient of a dataclass or registered class is one where the constructor refuses the
    cotangents, and a rule's pullback may return one for a structured argument.

    >>> import dataclasses, wengert as wg
    >>> @dataclasses.dataclass
    ... class Spring:
    ...     stiffness: float
    ...     length: float
    >>> t = wg.Tangent(Spring, stiffness=2.0)
    >>> print(t.stiffness, t["stiffness"], t)
    2.0 2.0 Tangent[Spring](stiffness=2.0)
    """

    __slots__ = ("primal_type", "fields")

    def __init__(self, primal_type, **fields):
        self.primal_type = primal_type
        self.fields = fields

    def __getattr__(self, name):
        try:
            return object.__getattribute__(self, "fields")[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name):
        return self.fields[name]

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return f"Tangent[{getattr(self.primal_type, '__name__', self.primal_type)}]({inner})"

    def __eq__(self, other):
        return (
            isinstance(other, Tangent)
            and other.primal_type is self.primal_type
            and other.fields.keys() == self.fields.keys()
            and all(np.array_equal(v, other.fields[k]) for k, v in self.fields.items())
        )

    __hash__ = None


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------

def _is_basic_index(index):
    """Basic indices never repeat a position, so ``a[index] += v`` is exact for them."""
    parts = index if type(index) is tuple else (index,)
    return all(
        p is None or p is Ellipsis or type(p) in (int, slice) or isinstance(p, np.integer)
        for p in parts
    )


def add_at(dense, index, values):
    """``dense[index] += values`` in place, accumulating repeated indices exactly."""
    if type(index) is int or _is_basic_index(index):
        dense[index] += values
    else:
        np.add.at(dense, index, values)


def to_dense(t):
    """A tangent as a plain array (or scalar); ``Zero`` stays ``Zero``."""
    if type(t) is Indexed or type(t) is OneHot:
        return t.to_dense()
    if type(t) is tuple:
        return tuple(to_dense(x) for x in t)
    return t


def add(a, b):
    """``a + b`` for any two tangents of the same primal (functional, never in place)."""
    if is_zero(a):
        return b
    if is_zero(b):
        return a
    if type(a) is tuple:
        return tuple(add(x, y) for x, y in zip(a, b))
    if isinstance(a, Indexed) or isinstance(b, Indexed):
        return _add_indexed(a, b)
    return a + b


def _add_indexed(a, b):
    """``a + b`` where one of them is ``Indexed``: sparse when both sit at the same basic
    index (the two partials of x·x along a OneHot), else one dense array, written once."""
    if isinstance(a, Indexed) and isinstance(b, Indexed):
        if a.shape == b.shape and _same_index(a.index, b.index):
            return Indexed(a.index, a.values + b.values, a.shape, np.result_type(a.dtype, b.dtype))
        if isinstance(a.values, RECORDED) or isinstance(b.values, RECORDED):
            return a.to_dense() + b.to_dense()
        dense = a.to_dense()
        return _plus_indexed(dense, b) if dense.shape == b.shape else dense + b.to_dense()
    sparse, other = (a, b) if isinstance(a, Indexed) else (b, a)
    if type(other) in IN_PLACE and other.shape == sparse.shape \
            and not isinstance(sparse.values, RECORDED):
        return _plus_indexed(other, sparse)
    return to_dense(a) + to_dense(b)


def _plus_indexed(dense, t):
    """A fresh array holding ``dense + t`` for a plain array and an ``Indexed`` ``t``."""
    dtype = np.result_type(dense.dtype, t.dtype, dtype_of(t.values))
    result = dense.astype(dtype)   # a copy (``dense`` may be a caller's array), of its library
    add_at(result, t.index, t.values)
    return mark_selected(result)   # as to_dense(t) + dense: the zeros of t are structural


def _same_index(i, j):
    """Whether two basic indices certainly name the same elements (False when unsure)."""
    if i is j:
        return True
    if type(i) is not tuple or type(j) is not tuple:
        return _same_part(i, j)
    return len(i) == len(j) and all(_same_part(p, q) for p, q in zip(i, j))


def _same_part(p, q):
    if p is q:
        return True
    integers = (int, np.integer)
    if isinstance(p, integers) and isinstance(q, integers):
        return type(p) is not bool and type(q) is not bool and p == q
    return type(p) is slice and type(q) is slice and p == q


def accumulate(slot, owned, g):
    """Add cotangent ``g`` into ``slot``; returns ``(new_slot, new_owned)``.

    ``owned`` says the slot's array was allocated here and nobody else refers to it, so it
    may be updated in place. Arrays that come from pullbacks are never owned: a pullback may
    hand the same array to several parents (``add`` does).
    """
    if type(slot) is np.ndarray and type(g) is np.ndarray:   # the common case, checked first
        if (owned and g.shape == slot.shape
                and (slot.dtype.kind == "c" or g.dtype.kind != "c")):
            slot += g
            return slot, True
        result = slot + g   # a NumPy scalar for 0-d arrays: not one to add into
        return result, type(result) is np.ndarray
    if is_zero(g):
        return slot, owned
    if slot is None or is_zero(slot):   # None: a slot nothing has reached yet
        return g, False
    if type(slot) is tuple:
        return add(slot, g), False
    if isinstance(slot, RECORDED) or isinstance(g, RECORDED):
        return add(slot, g), False
    if isinstance(g, Indexed):
        if not owned or isinstance(slot, Indexed):
            slot = to_dense(slot)
            slot = np.array(slot, dtype=np.result_type(slot.dtype, dtype_of(g.values)),
                            subok=True)
        elif slot.dtype.kind != "c" and dtype_of(g.values).kind == "c":
            slot = slot.astype(np.result_type(slot.dtype, g.values.dtype))
        add_at(slot, g.index, g.values)
        return slot, True
    if isinstance(slot, Indexed):
        g = np.array(to_dense(g), dtype=np.result_type(dtype_of(g), slot.dtype), subok=True)
        add_at(g, slot.index, slot.values)
        return g, True
    if owned and type(slot) in IN_PLACE:
        # Attribute reads, not np.shape: for small arrays the checks cost as much as the add.
        g_array = type(g) in IN_PLACE
        if ((g.shape if g_array else np.shape(g)) == slot.shape
                and (slot.dtype.kind == "c" or (g.dtype if g_array else dtype_of(g)).kind != "c")):
            slot += g
            return slot, True
    result = slot + g
    return result, type(result) in IN_PLACE


def scale(t, s):
    """``s * t`` for a tangent ``t`` and a scalar ``s``."""
    if is_zero(t):
        return ZERO
    if isinstance(t, Indexed):
        values = s * t.values
        dtype = getattr(values, "dtype", None)   # a complex factor makes a complex tangent
        return Indexed(t.index, values, t.shape, t.dtype if dtype is None else
                       np.result_type(t.dtype, dtype))
    if type(t) is tuple:
        return tuple(scale(x, s) for x in t)
    return s * t


def zeros_like(x):
    """A dense zero tangent for primal ``x`` (a Python float gives 0.0)."""
    if type(x) is float:
        return 0.0
    if type(x) is complex:
        return 0j
    return np.zeros_like(x)
