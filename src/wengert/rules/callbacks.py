"""NumPy functions that call the user's functions: piecewise, apply_along_axis,
apply_over_axes, and the objects np.vectorize makes.

Each is restated as a loop that calls the user's function on tracers (one call per piece, line
or element, as NumPy calls it) and assembles the results with operations that carry rules:
indexing, stacking, concatenation, transposition. The derivatives are then those of the
user's own code, in both modes and to every order. What NumPy decides from values (which
condition holds where) is decided on the concrete values and carries no derivative.

np.vectorize converts its arguments to object arrays, which no NumPy protocol intercepts, so
``np.vectorize.__call__`` is reached through a door (``_reach``): a call without tracers runs
NumPy's own code unchanged; a call with tracers runs the loop below. Traced arguments must be
positional (bind refuses traced keyword arguments of ``__call__``), and the function must
compute with NumPy (``math.exp`` on a traced element raises DifferentiationError).
"""
import re

import numpy as np

from ..core.levels import Tracer, primal
from ._helpers import (arange_like, as_array, asarray_like, derived_through, dtype_of, shape_of,
                       zeros_like_value)
from ._reach import reach

try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # pragma: no cover - NumPy < 2
    from numpy.core.numeric import normalize_axis_tuple


def _as_dtype(value, dtype):
    """A result as an array of ``dtype``, as NumPy casts each result into the output buffer
    it allocated from the first one."""
    if isinstance(value, Tracer):
        return value if value.dtype == dtype else value.astype(dtype)
    return asarray_like(value, dtype=dtype)


def _stacked(results, shape):
    """Results of equal shape stacked, in the dtype of the first, with leading ``shape``."""
    dtype = dtype_of(results[0])
    stacked = np.stack([_as_dtype(r, dtype) for r in results])
    return np.reshape(stacked, shape + shape_of(results[0]))


# ---------------------------------------------------------------------------------------------
# piecewise: each function sees only its own elements
# ---------------------------------------------------------------------------------------------


def _conditions(condlist, count, ndim):
    """piecewise's conditions as one boolean array, one row per function: a single condition
    is promoted to a list, and one condition fewer than functions gets the 'otherwise' row."""
    if np.isscalar(condlist) or (
            not isinstance(condlist[0], (list, np.ndarray, Tracer)) and ndim != 0):
        condlist = [condlist]
    conditions = np.asarray([primal(c) for c in condlist], dtype=bool)
    if len(conditions) == count - 1:
        otherwise = ~np.any(conditions, axis=0, keepdims=True)
        conditions = np.concatenate([conditions, otherwise], axis=0)
    elif len(conditions) != count:
        raise ValueError(f"with {len(conditions)} condition(s), either {len(conditions)} or "
                         f"{len(conditions) + 1} functions are expected")
    return conditions


@derived_through(np.piecewise)
def _piecewise(x, condlist, funclist, *args, **kw):
    x = as_array(x)
    shape = shape_of(x)
    flat = np.ravel(x)
    # Element k of the result reads element source[k] of the pieces laid end to end. The
    # first piece is the 0 NumPy leaves where no condition holds; a later condition wins.
    source = np.zeros_like(np.ravel(primal(x)), dtype=np.intp)
    pieces = [np.zeros_like(flat[:1])]
    start = 1
    for condition, func in zip(_conditions(condlist, len(funclist), len(shape)), funclist):
        where = np.flatnonzero(np.broadcast_to(condition, shape))
        if not callable(func):
            piece = func                  # a constant (traced or not) for all its elements
        elif where.size:
            piece = func(flat[where], *args, **kw)
        else:
            continue                      # NumPy does not call a function with no elements
        pieces.append(_as_dtype(np.broadcast_to(piece, where.shape), dtype_of(x)))
        source[where] = start + arange_like(where.size, where)
        start += where.size
    return np.reshape(np.concatenate(pieces)[source], shape)


# ---------------------------------------------------------------------------------------------
# apply_along_axis and apply_over_axes
# ---------------------------------------------------------------------------------------------


@derived_through(np.apply_along_axis)
def _apply_along_axis(func1d, axis, arr, *args, **kwargs):
    arr = as_array(arr)
    (axis,) = normalize_axis_tuple(axis, len(shape_of(arr)))
    lines = np.moveaxis(arr, axis, -1)
    outer = shape_of(lines)[:-1]
    results = [func1d(lines[index], *args, **kwargs) for index in np.ndindex(outer)]
    if not results:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    stacked = _stacked(results, outer)
    # The result's own axes take the place of the one the function consumed.
    inner = len(shape_of(results[0]))
    order = [*range(axis), *range(len(outer), len(outer) + inner), *range(axis, len(outer))]
    return np.transpose(stacked, order)


@derived_through(np.apply_over_axes)
def _apply_over_axes(func, a, axes):
    value = as_array(a)
    ndim = len(shape_of(value))
    for axis in (axes,) if np.ndim(axes) == 0 else axes:
        axis = axis + ndim if axis < 0 else axis
        result = func(value, axis)
        if np.ndim(result) != ndim:
            result = np.expand_dims(result, axis)
            if np.ndim(result) != ndim:
                raise ValueError("function is not returning an array of the correct shape")
        value = result
    return value


# ---------------------------------------------------------------------------------------------
# np.vectorize: the Python function called per element (or per core block of a signature)
# ---------------------------------------------------------------------------------------------

_vectorize_call = reach(np.vectorize, "__call__")


def _core_dims(signature):
    """``"(m,n),(n)->(m)"`` as ``([("m", "n"), ("n",)], [("m",)])``."""
    sides = signature.replace(" ", "").split("->")
    return [[tuple(d for d in group.split(",") if d) for group in re.findall(r"\(([^)]*)\)", s)]
            for s in sides]


@derived_through(_vectorize_call)
def _vectorized(vec, *args, **kwargs):
    positions = [i for i in range(len(args)) if i not in vec.excluded]
    names = [k for k in kwargs if k not in vec.excluded]
    values = [as_array(args[i]) for i in positions] + [as_array(kwargs[k]) for k in names]

    def call(elements):
        full_args, full_kwargs = list(args), dict(kwargs)
        for i, element in zip(positions, elements):
            full_args[i] = element
        for k, element in zip(names, elements[len(positions):]):
            full_kwargs[k] = element
        return vec.pyfunc(*full_args, **full_kwargs)

    if vec.signature is None:
        cores = [()] * len(values)
        outputs = None
    else:
        cores, outputs = _core_dims(vec.signature)
        if len(cores) != len(values):
            raise TypeError(f"wrong number of positional arguments: expected {len(cores)}, "
                            f"got {len(values)}")
    # The loop runs over the broadcast of everything before each argument's core axes.
    loops = [shape_of(v)[:len(shape_of(v)) - len(c)] for v, c in zip(values, cores)]
    loop = np.broadcast_shapes(*loops) if loops else ()
    values = [np.broadcast_to(v, loop + shape_of(v)[len(l):]) for v, l in zip(values, loops)]
    results = [call([v[index] for v in values]) for index in np.ndindex(loop)]
    return _vectorized_outputs(vec, results, loop, outputs)


def _vectorized_outputs(vec, results, loop, outputs):
    several = outputs is not None and len(outputs) > 1
    if not results:
        if vec.otypes is None or outputs is not None:
            raise ValueError("cannot call `vectorize` on size 0 inputs unless `otypes` is set "
                             "(and, with traced values, without a signature)")
        empty = [zeros_like_value(0.0, shape=loop, dtype=np.dtype(t)) for t in vec.otypes]
        return empty[0] if len(empty) == 1 else tuple(empty)
    if outputs is None:
        several = isinstance(results[0], tuple)
    columns = list(zip(*results)) if several else [results]
    otypes = vec.otypes or [None] * len(columns)
    stacked = []
    for column, otype in zip(columns, otypes):
        dtype = np.dtype(otype) if otype is not None else dtype_of(column[0])
        stacked.append(_stacked([_as_dtype(r, dtype) for r in column], loop))
    return tuple(stacked) if several else stacked[0]
