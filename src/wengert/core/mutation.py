"""Writes into traced arrays: ``x[i] = v``, ``x += v``, ``np.add(a, b, out=x)``.

A write is recorded as one step, and then the tracer object itself takes the result's value
and its place on the tape (or its tangent): every alias of the same Python object sees the
write, as in NumPy. Two steps, one meaning:

- ``index_write(x, index, v)`` writes into x's own array, in place, O(size of the write):
  taken where nothing but the tracer refers to that array (``held_alone``): no saved value
  of the tape, no view, no other tracer, not the caller's array, no outer level;
- ``index_update(x, index, v)``, x with x[index] replaced by v, copies the array first:
  everything else (the first write after a step saved the array, nested levels, views).

So a saved value is never changed behind a pullback's back (copy-on-write), and a loop of
writes into a fresh array costs O(1) per write.

Arrays made to be written into — ``np.zeros_like(x)`` and friends of a traced ``x`` — are
tracers of x's level with no dependence on x, so that traced values can be written into them.
"""
import numpy as np

from ..arraytypes import RECORDED, StagedValue, implementation, of_numpy_kind, record_of
from ..errors import DifferentiationError
from ..registry import implementations
from .aliasing import (after_write, fields, held_alone, kept, lineage, refuse_if_stale,
                       register_view, view_write_error)
from .bind import bind
from .levels import Tracer, closed_level_error, primal

_read = object.__getattribute__


def index_update(x, index, v):
    """``x`` with ``x[index] = v`` (NumPy's assignment: v broadcast and cast to x's dtype;
    with repeated indices the last write wins). Functional: ``x`` is not changed."""
    return bind(index_update, (x, index, v))


def _index_update(x, index, v):
    special = implementation(index_update, x)
    if special is not index_update:   # an array library's own (Dask's arrays are immutable)
        return special(x, index, v)
    if isinstance(x, np.ndarray) or of_numpy_kind(x) or isinstance(x, RECORDED):
        updated = np.array(x, copy=True, subok=True)
    else:   # another library's array, which np.array would convert (CuPy's refuses it)
        updated = x.copy()
    updated[index] = v
    return updated


def index_write(x, index, v):
    """``x[index] = v`` into x's own array, in place; returns x. Only for a tracer ``x``
    whose arrays nothing else refers to (see ``assign``): the rules write its tangent (and,
    in the backward pass, a cotangent the walk owns) in place too."""
    return bind(index_write, (x, index, v))


def write_in_place(x, index, v):
    """index_write's body, on plain arrays only (the tracer's own): its rules call it
    directly, as there is no tracer for bind to look for."""
    x[index] = v
    return x


implementations[index_update] = _index_update   # the bodies, for calls with no tracer
implementations[index_write] = write_in_place


# ---------------------------------------------------------------------------------------------
# The tracer object takes the new value
# ---------------------------------------------------------------------------------------------

def _take_over(x, result, write):
    """Move the fields of ``result`` (the written array) into the tracer ``x``."""
    level = x._level
    if isinstance(result, Tracer) and result._level is not level:
        if result._level.order > level.order:
            raise DifferentiationError(
                f"{write} writes a value traced by a transformation opened inside the one that "
                "traces the array written into (the array was made outside the inner "
                "wg.gradient/wg.jvp/...). The result cannot live in the outer array. Create "
                "the array inside the inner function instead, e.g. np.zeros_like(v) there.")
        result = level.constant(result)   # traced only by outer levels: a constant here
    elif not isinstance(result, Tracer):
        result = level.constant(result)
    cls = type(x)
    if type(result) is not cls:   # pragma: no cover - one tracer class per level
        raise DifferentiationError(f"{write}: cannot store a {type(result).__name__} here")
    for name in fields(cls):
        setattr(x, name, getattr(result, name))


def _written_array(x, write):
    """Check that ``x`` may be written: not stale, not a 0-d scalar, and a view only if it
    was made by basic indexing (whose write reaches its base). Returns its lineage."""
    refuse_if_stale(x)
    if type(x._value) is not np.ndarray:   # NumPy's arrays first: the commonest case
        value = primal(x)
        if isinstance(value, StagedValue):   # wg.compile: the array it stands for
            value = value._value
        if not isinstance(value, np.ndarray) and (record_of(value) is None
                                                  or isinstance(value, np.generic)):
            raise TypeError(f"'{type(value).__name__}' object does not support item assignment")
    family = lineage(x)
    if family is not None and family.base is not None and family.index is None:
        raise view_write_error(family.how)
    return family


def assign(x, index, v, write="x[...] = v", keep=None):
    """``x[index] = v`` on the tracer ``x``; ``keep``: a view of ``x`` the write came
    through, which holds the new values already and stays usable."""
    family = _written_array(x, write)
    if isinstance(v, Tracer):
        if lineage(v) is not None and _is_current_view(v, x, index):
            # x[i] += v: Python reads x[i], adds in place, then writes it back. The in-place
            # addition wrote through to x already; writing the same values again would
            # only cost a copy.
            return
    elif type(v) in (list, tuple):
        v = _as_array(v)
    level = x._level
    if (not isinstance(v, Tracer) or v._level is level and not isinstance(v._value, Tracer)) \
            and held_alone(x):
        # x's arrays are its own and the write involves x's level alone (v plain, or traced
        # by that level only): the level writes into them and x takes the step's place.
        if not level.active:
            raise closed_level_error(write)
        level.write_into(index_write, x, index, v)
        if family is not None:   # x takes part in aliasing (most written arrays do not)
            if family.base is not None:
                # x is a view by basic indexing (holding an array of its own since it was
                # written before): its base takes the new values too. Not x itself: x is
                # the base's current view, whose values assign would take as written.
                assign(family.base, family.index, kept(x), write, keep=x)
            after_write(x, write, keep)
    else:
        _replace(x, family, index_update(x, index, v), write, keep)


def _is_current_view(v, x, index):
    family = lineage(v)
    return (family.base is x and family.index is not None
            and _is_basic(index) and family.index == index)


def _replace(x, family, result, write, keep=None):
    """``x`` takes the value ``result``; a view made by basic indexing also writes it into
    its base, so that the base (and every alias of it) sees the write."""
    if family is not None and family.base is not None:
        assign(family.base, family.index, result, write, keep=x)
    _take_over(x, result, write)
    after_write(x, write, keep)


def _as_array(values):
    """A list or tuple written into an array: stacked if it holds tracers."""
    if any(isinstance(v, Tracer) for v in values):
        return np.stack([_as_array(v) if type(v) in (list, tuple) else v for v in values])
    return np.asarray(values)


def replace_whole(x, result, write):
    """``x`` takes the value of ``result`` whole (``x += v``, ``out=x``), cast to x's dtype
    as NumPy's in-place operations cast (same kind only), in x's shape."""
    family = _written_array(x, write)
    x_dtype = primal(x).dtype
    r_dtype = np.result_type(primal(result))
    if not np.can_cast(r_dtype, x_dtype, "same_kind"):
        raise TypeError(   # NumPy's own error for this is a TypeError too
            f"Cannot cast {write} output from {r_dtype} to {x_dtype} with casting rule "
            "'same_kind'")
    if (np.shape(primal(result)) != np.shape(primal(x)) or r_dtype != x_dtype
            or not isinstance(result, Tracer)):
        result = index_update(x, Ellipsis, result)   # broadcast and cast as NumPy would
    _replace(x, family, result, write)
    return x


def in_place(ufunc, symbol):
    """``x <symbol>= other`` (``__iadd__`` and friends): the out-of-place result, moved into
    the tracer ``x`` itself."""
    def method(self, other):
        if type(other) in (list, tuple):
            other = _as_array(other)
        elif not isinstance(other, (Tracer, np.ndarray, np.generic, int, float, complex)):
            return NotImplemented
        result = ufunc(self, other)
        if not _holds_an_array(self):
            # A NumPy scalar is immutable: ``s += v`` rebinds s to the sum, other names for
            # the old scalar keep it (the running total of a loop).
            return result
        return replace_whole(self, result, f"x {symbol}= ...")

    method.__name__ = f"__i{ufunc.__name__}__"
    return method


# ---------------------------------------------------------------------------------------------
# out= of ufuncs and NumPy functions
# ---------------------------------------------------------------------------------------------

def into_outputs(outputs, result, name):
    """The result of a call that was given ``out=outputs`` (an array or a tuple of them, at
    least one traced): each traced output takes its part; a plain output cannot receive a
    traced value, and anything else would leave it unwritten."""
    single = type(outputs) is not tuple
    outs = (outputs,) if single else outputs
    parts = (result,) if single or len(outs) == 1 else result
    for out, part in zip(outs, parts):
        if out is None:
            continue
        if not isinstance(out, Tracer):
            raise out_of_plain_error(name)
        replace_whole(out, part, f"{name}(..., out=x)")
    return outs[0] if len(outs) == 1 else outs


def out_of_plain_error(name):
    return DifferentiationError(
        f"{name}(..., out=...) writes into an existing array, which wengert cannot track. "
        "Drop out= and use the returned array.")


# ---------------------------------------------------------------------------------------------
# Arrays made to be written into, and views
# ---------------------------------------------------------------------------------------------

def _like(make):
    """``np.zeros_like(x)`` (and ones, empty, full) of a traced ``x``: a tracer of x's level
    with the values, depending on nothing, so that traced values can be written into it. An
    integer or boolean result stays a plain array (it could hold no derivative)."""
    def like(x, *args, **kwargs):
        traced = x if isinstance(x, Tracer) else None
        if traced is not None and not traced._level.active:
            raise closed_level_error(f"np.{make.__name__}")
        value = make(primal(x) if traced is None else x._value, *args, **kwargs)
        if traced is None or not np.issubdtype(np.result_type(primal(value)), np.inexact):
            return primal(value) if not isinstance(value, Tracer) else value
        return traced._level.constant(value)

    return like


def _like_full(x, fill_value, *args, **kwargs):
    """``np.full_like``: the fill value may be traced (its definition carries it)."""
    if isinstance(fill_value, Tracer) or not isinstance(x, Tracer):
        return bind(np.full_like, (x, fill_value) + args, kwargs)
    return _like(np.full_like)(x, fill_value, *args, **kwargs)


def _traced(base, out):
    """A view function's result as a tracer of ``base``'s level. A level with nothing to
    carry returns NumPy's own view of the value (forward mode, no tangent), which a write
    would change in place beneath the tracer: made a constant tracer, it is written like
    any other."""
    if type(out) is np.ndarray:
        return base._level.constant(out)
    if type(out) in (list, tuple) and any(type(item) is np.ndarray for item in out):
        return type(out)(_traced(base, item) for item in out)
    return out


def _views_by(fn):
    def call(*args, **kwargs):
        out = bind(fn, args, kwargs)
        base = args[0] if args else None
        if isinstance(base, Tracer):
            out = _traced(base, out)
            register_view(base, out, f"np.{fn.__name__}")
        return out

    return call


def _views_of_each(fn):
    """np.broadcast_arrays, np.atleast_2d(a, b): each result is a view of its argument."""
    def call(*args, **kwargs):
        out = bind(fn, args, kwargs)
        if len(args) == 1:
            if isinstance(args[0], Tracer):
                out = _traced(args[0], out)
                register_view(args[0], out, f"np.{fn.__name__}")
            return out
        views = list(out)
        for i, base in enumerate(args):
            if isinstance(base, Tracer):
                views[i] = _traced(base, views[i])
                register_view(base, views[i], f"np.{fn.__name__}")
        return type(out)(views)

    return call


_VIEW_FUNCTIONS = [
    np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.rollaxis, np.squeeze,
    np.expand_dims, np.diagonal, np.real, np.imag, np.broadcast_to, np.flip, np.fliplr,
    np.flipud, np.rot90, np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit,
]
if hasattr(np, "matrix_transpose"):   # NumPy 2
    _VIEW_FUNCTIONS.append(np.matrix_transpose)

# NumPy functions a traced array answers differently because of writes: the array-making
# ones and the ones that return views. __array_function__ looks each call up here once.
SPECIAL_FUNCTIONS = {fn: _views_by(fn) for fn in _VIEW_FUNCTIONS}
SPECIAL_FUNCTIONS.update({fn: _views_of_each(fn) for fn in (
    np.broadcast_arrays, np.atleast_1d, np.atleast_2d, np.atleast_3d)})
SPECIAL_FUNCTIONS.update({np.zeros_like: _like(np.zeros_like),
                          np.ones_like: _like(np.ones_like),
                          np.empty_like: _like(np.zeros_like),   # zeros: no garbage traced
                          np.full_like: _like_full})


def _is_basic(index):
    if type(index) is int:   # the commonest read: a row x[i]
        return True
    items = index if type(index) is tuple else (index,)
    for item in items:
        kind = type(item)
        if not (kind is int or kind is slice or item is None or item is Ellipsis
                or isinstance(item, np.integer)):
            return False
    return True


def as_view(x, out, index):
    """``out = x[index]``, as a view where NumPy's is one: a basic index (unless it picks
    one element, a scalar) is remembered with its base, so that a write into it reaches
    ``x``."""
    try:
        value = out._value
    except AttributeError:   # a level with nothing to carry gave NumPy's own result
        if type(out) is np.ndarray and _is_basic(index):
            out = x._level.constant(out)   # see _traced
            register_view(x, out, None, index)
        return out
    if (type(value) is np.ndarray or _holds_an_array(out)) and _is_basic(index):
        register_view(x, out, None, index)   # named from the index only if needed
    return out


def _holds_an_array(x):
    """Whether the tracer ``x`` stands for an array (not an immutable NumPy scalar); under
    wg.compile its concrete value is a staged one, which stands for an array in turn."""
    value = primal(x)
    if isinstance(value, StagedValue):
        value = value._value
    return isinstance(value, np.ndarray)
