"""Sums and means: sum, mean, nansum, nanmean, declared by their transposes (``linear``).

They are linear in ``x`` (sum with ``initial=`` is affine: its tangent leaves ``initial``
out). The cotangent is broadcast back over the reduced axes (``expand_reduced``), masked by
``where=`` and, for the nan- variants, at the NaNs they leave out. A sparse tangent stays
sparse: a one-element one is one value at the reduced position, and sum and mean over every
axis total a sparse tangent of any index without forming the dense array.
"""
import numpy as np

from ..arraytypes import concrete, record_of
from ._helpers import linear, real_dtype, safe_divide, scale, shape_of, unbroadcast
from .reductions import (expand_reduced, present, reduced_axes, reduced_count, reduced_position,
                         sparse_reduction, unmasked, where_keyword, where_mask)


def _masked(g, where):
    return g if unmasked(where) else np.where(where, g, 0)


def selection_shape(t):
    """The shape of the part of the array that a sparse tangent's index selects."""
    # One NumPy bool, never combined with a value: only its shape is read.
    return np.broadcast_to(np.empty((), bool), t.shape)[t.index].shape


# ---------------------------------------------------------------------------------------------
# sum and mean
# ---------------------------------------------------------------------------------------------


def _sum_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                   where=True):
    g = expand_reduced(ct, shape_of(x), axis, keepdims, like=x)
    return unbroadcast(x, _masked(g, where))


def _sum_tangent(t, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                 where=True):
    # np.sum(x, initial=c) is affine in x, not linear: its tangent leaves ``initial`` out.
    return np.sum(t, axis=axis, dtype=dtype, keepdims=keepdims, **where_keyword(where))


def _sum_sparse(t, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                where=True):
    mask = where_mask(x, where)
    weight_at = (lambda i: 1) if mask is None else (lambda i: mask[i])
    dy = sparse_reduction(t, weight_at, axis, keepdims, t.dtype if dtype is None else dtype)
    if dy is None and axis is None and not keepdims and mask is None:
        # Any index: the total of the values over the positions they sit at.
        dy = np.sum(np.broadcast_to(t.values, selection_shape(t)), dtype=dtype)
    return dy


def _count(x, axis, where):
    """Elements each output of mean averages over, kept as length-1 axes (where= aware)."""
    x_shape = shape_of(x)
    if unmasked(where):
        return reduced_count(x_shape, axis)
    mask = np.broadcast_to(where, x_shape)
    return np.sum(mask, axis=reduced_axes(axis, len(x_shape)), keepdims=True,
                  dtype=real_dtype(x))


def _mean_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    count = _count(x, axis, where)
    record = record_of(concrete(x))
    if type(count) is int and record is not None and record.broadcast_to is not None:
        # An array type that lays a broadcast out itself (Dask's: a layer of tasks) gets the
        # division as one task on the reduced cotangent, not as one more layer. (Elsewhere
        # the quotient of the broadcast is a fresh array, which the reverse walk may
        # accumulate into in place, and a user may be handed.)
        g = expand_reduced(ct / count, shape_of(x), axis, keepdims, like=x)
    else:
        g = expand_reduced(ct, shape_of(x), axis, keepdims, like=x)
        g = g / count if type(count) is int else safe_divide(g, count)
    return unbroadcast(x, _masked(g, where))


def _mean_sparse(t, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    if not unmasked(where):
        return None
    total = _sum_sparse(t, x, axis, dtype, keepdims=keepdims)
    return None if total is None else scale(total, 1.0 / reduced_count(shape_of(x), axis))


# ---------------------------------------------------------------------------------------------
# nansum and nanmean: the NaNs take no part, nor do their tangents
# ---------------------------------------------------------------------------------------------


def _nansum_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                      where=True):
    g = expand_reduced(ct, shape_of(x), axis, keepdims, like=x)
    return unbroadcast(x, np.where(np.isnan(x), 0, _masked(g, where)))


def _nansum_tangent(t, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                    where=True):
    # A NaN element is left out of the sum, and so is its tangent.
    return np.sum(np.where(np.isnan(x), 0, t), axis=axis, dtype=dtype, keepdims=keepdims,
                  **where_keyword(where))


def _nansum_sparse(t, x, axis=None, dtype=None, out=None, keepdims=False, initial=None,
                   where=True):
    mask = where_mask(x, where)
    return sparse_reduction(
        t, lambda i: ~np.isnan(x[i]) if mask is None else ~np.isnan(x[i]) & mask[i],
        axis, keepdims, t.dtype if dtype is None else dtype)


def _nanmean_count(x, axis, where, keepdims):
    return np.sum(present(x, where), axis=reduced_axes(axis, len(shape_of(x))),
                  keepdims=keepdims, dtype=real_dtype(x))


def _nanmean_transpose(ct, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    counted = present(x, where)
    count = _nanmean_count(x, axis, where, keepdims=True)
    g = expand_reduced(ct, shape_of(x), axis, keepdims, like=x)
    return unbroadcast(x, np.where(counted, safe_divide(g, count), 0))


def _nanmean_tangent(t, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    total = np.sum(np.where(present(x, where), t, 0), axis=axis, dtype=dtype,
                   keepdims=keepdims)
    return safe_divide(total, _nanmean_count(x, axis, where, keepdims))


def _nanmean_sparse(t, x, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    counted = present(x, where)
    count = _nanmean_count(x, axis, where, keepdims=True)
    return sparse_reduction(
        t, lambda i: safe_divide(counted[i], count[reduced_position(i, axis, True)]),
        axis, keepdims, t.dtype)


linear(np.sum, _sum_transpose, tangent=_sum_tangent, sparse=_sum_sparse)
linear(np.mean, _mean_transpose, sparse=_mean_sparse)
linear(np.nansum, _nansum_transpose, tangent=_nansum_tangent, sparse=_nansum_sparse)
linear(np.nanmean, _nanmean_transpose, tangent=_nanmean_tangent, sparse=_nanmean_sparse)
