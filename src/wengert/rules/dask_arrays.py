"""Dask arrays: their record in the table of array types, loaded when ``dask.array`` is.

A tracer may carry a Dask array as its value: the rules compute with NumPy's functions,
which Dask's ``__array_ufunc__`` / ``__array_function__`` answer with new lazy arrays, so a
derivative is a task graph like any other Dask computation and nothing is computed until the
user asks. What the record adds to NumPy's defaults:

- Dask arrays are immutable: cotangents are never accumulated in place, and a cotangent is
  placed at an index (indexing's pullback) with Dask's functional ``__setitem__``, or, where
  an integer index repeats a position, by a product with a one-hot matrix.
- The NumPy functions Dask computes differently are mapped to NumPy's semantics
  (``np.linalg.cholesky`` of a Dask array is upper triangular; its ``qr`` and ``svd`` take
  no ``mode`` / ``full_matrices``), and those Dask lacks are refused: Dask would compute the
  array in NumPy, with a warning, behind the user's back.
- ``dask.array.linalg``'s functions called on traced values are differentiated as their
  NumPy namesakes (doors, as for SciPy).
- No selection mark: every cotangent is masked where a partial may be infinite. An
  elementwise pullback (partial, product and mask) is one layer of tasks, the partial
  evaluated in NumPy chunk by chunk, as a hand-written gradient's product would be.
"""
import uuid

import numpy as np
import dask.array as da
import dask.array.linalg as dask_linalg

from ..arraytypes import ArrayType, register_array_type
from ..partials import QUIET
from ..core.bind import bind
from ..core.mutation import index_update
from ..errors import DifferentiationError
from ._helpers import derived_through
from ._reach import reach
from .dask_computing import refusal, refusing_computation
from .solves import solve_triangular


# --- constants and placement -------------------------------------------------------------------

def _eye(rows, columns, k, dtype):
    return da.eye(rows, M=columns, k=k, dtype=dtype)


def _tri(rows, columns, k, dtype):
    return da.tri(rows, columns, k, dtype=dtype)


def _placed(shape, dtype, index, values):
    """Zeros with ``values`` added at ``index``: Dask's ``__setitem__`` where no position
    repeats, a one-hot product for one integer array that may repeat positions."""
    parts = list(index) if type(index) is tuple else [index]
    parts = [np.asarray(p) if type(p) is list else p for p in parts]
    if any(p is Ellipsis for p in parts):
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        named = sum(p is not None and p is not Ellipsis for p in parts)
        parts[at:at + 1] = [slice(None)] * (len(shape) - named)
    arrays = [i for i, p in enumerate(parts) if isinstance(p, (np.ndarray, da.Array))
              and p.dtype.kind in "iu" and p.ndim > 0]
    if any(p is None for p in parts):
        if arrays:
            _refuse_index(index)
        values = da.squeeze(values, axis=_new_axes(parts))
        parts = [p for p in parts if p is not None]
    if arrays and not _distinct(parts[arrays[0]]):
        if len(arrays) > 1 or any(not (type(p) is slice and p == slice(None))
                                  for i, p in enumerate(parts) if i != arrays[0]):
            _refuse_index(index)
        return _one_hot_placed(shape, dtype, arrays[0], parts[arrays[0]], values)
    dense = da.zeros(shape, dtype=dtype)
    dense[tuple(parts)] = values
    return dense


def _new_axes(parts):
    """The axes of a basic index's result that ``None`` entries made."""
    axes, axis = [], 0
    for p in parts:
        if p is None:
            axes.append(axis)
        if not isinstance(p, (int, np.integer)):
            axis += 1
    return tuple(axes)


def _distinct(positions):
    if isinstance(positions, da.Array):
        return False   # unknown without computing: take the path that adds repeats up
    return positions.dtype == bool or np.unique(positions).size == positions.size


def _one_hot_placed(shape, dtype, axis, positions, values):
    """``values`` summed into the rows ``positions`` of ``axis``: M @ values, M one-hot."""
    positions = np.asarray(positions).ravel() % shape[axis]
    one_hot = (np.arange(shape[axis])[:, None] == positions[None, :]).astype(dtype)
    moved = da.moveaxis(values, axis, 0).reshape((positions.size, -1))
    placed = (da.from_array(one_hot) @ moved).reshape(
        (shape[axis],) + tuple(np.delete(shape, axis)))
    return da.moveaxis(placed, 0, axis)


def _broadcast_to(value, shape, like):
    """``value`` broadcast to ``shape`` in the chunks of ``like`` where it has that shape:
    one chunk would be rechunked to meet ``like``'s chunks in the next operation."""
    if tuple(like.shape) != tuple(shape):
        return da.broadcast_to(value, shape)
    # One blockwise layer in like's chunks rather than da.broadcast_to: Dask fuses it into
    # the tasks that use the result (broadcast_to's tasks stay apart).
    value = da.asarray(value)
    padded = (1,) * (len(shape) - value.ndim) + tuple(value.shape)
    spread = tuple(i for i, n in enumerate(padded) if n == 1 and shape[i] != 1)
    kept = tuple(n for i, n in enumerate(padded) if i not in spread)
    if tuple(value.shape) != kept:
        value = value.reshape(kept)
    chunks = tuple(c for i, c in enumerate(like.chunks) if i not in spread)
    if value.chunks != chunks:   # each chunk of the result reads one chunk of value
        value = value.rechunk(chunks)
    # The axes it is spread along are new axes in like's chunks: a layer Dask can fuse
    # (taking them out of value in the same call would make one it cannot).
    return da.map_blocks(_filled, value, new_axis=list(spread), chunks=like.chunks,
                         dtype=value.dtype, spread=spread)


def _filled(value, spread, block_info=None):
    """One chunk of a broadcast of ``value`` along the axes ``spread``."""
    return np.broadcast_to(np.expand_dims(value, spread), block_info[None]["chunk-shape"])


def _masked_product(ct, partial, args, out, conjugate):
    """``ct · partial(*args, out)`` (its conjugate where ``conjugate``), 0 where ``ct`` is 0
    even at a pole, as one blockwise layer; None where the partial is not a function of its
    arguments' elements alone (one that closes over a whole array), found by trying it on
    one element."""
    reads_out = True

    def block(ct, *blocks):
        with np.errstate(**QUIET):
            d = partial(*blocks) if reads_out else partial(*blocks, None)
            g = ct * (np.conjugate(d) if conjugate else d)
        if type(g) is np.ndarray and g.shape == np.shape(ct):   # fresh: cleared in place
            np.copyto(g, 0, where=ct == 0)
            return g
        return np.where(ct == 0, 0, g)

    values = (ct, *args, out)
    ones = [np.ones((1,) * v.ndim, v.dtype) if isinstance(v, (da.Array, np.ndarray)) else v
            for v in values]
    probe = _tried(block, ones)
    if probe is None:
        return None
    # A partial that never reads the output (x · y's) leaves it out of the tasks: its
    # chunks need not be kept for them. Reading None would fail or change the number.
    reads_out = False
    unread = _tried(block, ones[:-1])
    if unread is None or unread.dtype != probe.dtype or not np.array_equal(
            unread, probe, equal_nan=True):
        reads_out = True
    # A name of its own: the partial's identity is not in the arrays it is applied to.
    return da.core.elemwise(block, *(values if reads_out else values[:-1]), dtype=probe.dtype,
                            name=f"pullback-{uuid.uuid4().hex}")


def _tried(block, ones):
    """``block`` of arrays of one element each, or None where it fails or gives no NumPy
    value of one element (the general path then forms the product)."""
    try:
        value = block(*ones)
    except Exception:   # whatever the partial cannot do on one element, the general path does
        return None
    return value if isinstance(value, (np.ndarray, np.generic)) and value.size == 1 else None


def _refuse_index(index):
    raise DifferentiationError(
        f"The cotangent of a Dask array indexed with {index!r} cannot be formed: Dask arrays "
        "cannot be written into with this index. Index with slices, integers, a boolean "
        "mask, or one integer array along one axis.")


# --- NumPy's semantics where Dask's differ ----------------------------------------------------

def _cholesky(a, upper=False):
    return dask_linalg.cholesky(a, lower=not upper)


def _one_chunk_across(a):
    """``a`` rechunked to one chunk along its shorter side, as Dask's qr and svd need."""
    m, n = a.shape[-2:]
    return a.rechunk({a.ndim - 1: -1} if m >= n else {a.ndim - 2: -1})


def _qr(a, mode="reduced"):
    m, n = a.shape[-2:]
    if a.ndim != 2 or mode not in ("reduced", "r", "complete") or (
            mode == "complete" and m != n):
        raise DifferentiationError(
            f"np.linalg.qr(a, mode={mode!r}) of a Dask array of shape {a.shape}: Dask's qr "
            "factors one matrix and gives the reduced factors only.")
    q, r = dask_linalg.qr(_one_chunk_across(a))
    return r if mode == "r" else (q, r)


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    m, n = a.shape[-2:]
    if a.ndim != 2 or (full_matrices and compute_uv and m != n):
        raise DifferentiationError(
            f"np.linalg.svd of a Dask array of shape {a.shape}: Dask's svd factors one "
            "matrix and gives the thin factors only; pass full_matrices=False.")
    u, s, vh = dask_linalg.svd(_one_chunk_across(a))
    return (u, s, vh) if compute_uv else s


def _solve_triangular(t, b, lower):
    if t.ndim != 2:
        raise DifferentiationError(
            "A triangular solve with a stack of Dask matrices: Dask's solve_triangular takes "
            "one matrix.")
    b = da.asarray(b)   # its rows chunked as t's columns, as Dask's solve needs
    return dask_linalg.solve_triangular(t, b.rechunk({0: t.chunks[1]}), lower=lower)


# np.linalg.cholesky of a Dask array is Dask's cholesky, which gives the upper factor by
# default: the same code would give different factors for NumPy and Dask arrays.
_UPPER_CHOLESKY = {np.linalg.cholesky: (
    "Dask computes np.linalg.cholesky as the upper factor, NumPy as the lower one. Call "
    "dask.array.linalg.cholesky(a, lower=True) (or lower=False) to say which factor you "
    "want.")}


def _index_update(x, index, v):
    """``x`` with ``x[index] = v``, functionally: Dask's assignment gives the copy a new
    graph and leaves ``x`` as it was."""
    updated = x.copy()
    updated[index] = v
    return updated


# NumPy functions with rules that compute them on the argument, which Dask does not have
_LACKS_AT_TOP = {getattr(np, name): (
    f"Dask has no dask.array.{name}, and would compute the array in NumPy to call it. "
    "Write the step with the functions Dask has, or compute the array first (x.compute()) "
    "to differentiate it as a NumPy array.")
    for name in ["kron", "inner", "split", "array_split", "hsplit", "vsplit", "dsplit",
                 "unstack", "sort", "argsort", "partition", "cross", "convolve", "correlate",
                 "take_along_axis", "trapezoid", "vander", "interp", "cumulative_sum",
                 "cumulative_prod", "diagflat", "resize", "unwrap"]
    if hasattr(np, name) and not hasattr(da, name)}


def _lacks(names):
    """The functions of ``np.linalg`` among ``names`` that ``dask.array.linalg`` lacks."""
    return {getattr(np.linalg, name):
            f"Dask has no dask.array.linalg.{name}, and would compute the array in NumPy to "
            "call it. Write the step with the functions Dask has (a Cholesky factor's "
            "diagonal gives a log-determinant), or compute the array first (x.compute()) to "
            "differentiate it as a NumPy array."
            for name in names if hasattr(np.linalg, name) and not hasattr(dask_linalg, name)}


DASK = register_array_type(ArrayType(
    da.Array, in_place=False,
    asarray=lambda value, dtype=None: da.asarray(value, dtype=dtype),
    zeros=lambda shape, dtype=float: da.zeros(shape, dtype=dtype),
    ones=lambda shape, dtype=float: da.ones(shape, dtype=dtype),
    full=lambda shape, fill_value, dtype=None: da.full(shape, fill_value, dtype=dtype),
    eye=_eye, tri=_tri,
    arange=lambda stop, dtype=None: da.arange(stop, dtype=dtype),
    placed=_placed, broadcast_to=_broadcast_to, masked_product=_masked_product,
    refusing_conversion=refusing_computation, refusal=refusal,
    functions={np.linalg.cholesky: _cholesky, np.linalg.qr: _qr, np.linalg.svd: _svd,
               solve_triangular: _solve_triangular, index_update: _index_update,
               np.linalg.solve: lambda a, b: np.linalg.solve(da.asarray(a), b),
               np.copy: lambda a, *args, **kwargs: a.copy()},
    lacks=_lacks(["det", "slogdet", "eig", "eigh", "eigvals", "eigvalsh", "pinv",
                   "matrix_power", "svdvals", "tensorsolve", "tensorinv", "cond",
                   "matrix_rank", "multi_dot"]) | _UPPER_CHOLESKY | _LACKS_AT_TOP))


# --- dask.array.linalg, differentiated as NumPy's namesakes -------------------------------------

@derived_through(reach(dask_linalg, "cholesky"))
def _da_cholesky(a, lower=False):
    # Through the door itself: np.linalg.cholesky of a traced Dask array is refused (below).
    return bind(np.linalg.cholesky, (a,), {"upper": not lower})


@derived_through(reach(dask_linalg, "solve"))
def _da_solve(a, b, sym_pos=None, assume_a="gen"):
    return np.linalg.solve(a, b)


@derived_through(reach(dask_linalg, "inv"))
def _da_inv(a):
    return np.linalg.inv(a)


@derived_through(reach(dask_linalg, "qr"))
def _da_qr(a):
    return tuple(np.linalg.qr(a))


@derived_through(reach(dask_linalg, "svd"))
def _da_svd(a, coerce_signs=True):
    return tuple(np.linalg.svd(a, full_matrices=False))


@derived_through(reach(dask_linalg, "solve_triangular"))
def _da_solve_triangular(a, b, lower=False):
    if b.ndim == 1:
        return solve_triangular(a, b[:, None], lower)[:, 0]
    return solve_triangular(a, b, lower)
