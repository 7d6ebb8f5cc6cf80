"""Unique values, set operations, partial sorting, and the functions of these families whose
outputs are positions or flags (no tangent).

- ``np.unique`` (and NumPy 2's unique_values/_counts/_inverse/_all) has rules of its own:
  each unique value is one value of the input that occurs ``count`` times, and ties split
  evenly, as for max and min, so its cotangent is shared by all its occurrences in equal
  parts. Away from repeated values that is the derivative of a sort; where values repeat,
  it is the symmetric subgradient. Indices, inverse and counts carry no tangent.
- union1d, intersect1d, setdiff1d and setxor1d are unique values of combinations of the
  arguments (a value common to both arguments of intersect1d is shared between them, as a
  tie). Which values are kept is decided on the concrete values.
- partition gathers along the order ``argpartition`` finds (NumPy's partition gives the same
  arrangement); sort_complex along the lexicographic order of the real and imaginary parts.
"""
import numpy as np

from ..core.levels import primal
from ._helpers import (ZERO, arange_like, as_array, derived_through, dtype_of, forward,
                       is_complex, is_zero, non_differentiable, real_dtype, reverse, shape_of,
                       to_dense)

_UNIQUE_FLAGS = ("return_index", "return_inverse", "return_counts", "axis")


def _unique_groups(ar, args, kwargs):
    """The result of ``np.unique(ar, *args, **kwargs)``, and for the derivatives: the axis,
    each element's group (the inverse, flat) and the size of each group, in the order of the
    returned values."""
    options = dict(zip(_UNIQUE_FLAGS, args), **kwargs)
    out = np.unique(ar, *args, **kwargs)
    values = out[0] if type(out) is tuple else out
    axis = options.get("axis")
    grouping = {k: v for k, v in options.items() if k not in _UNIQUE_FLAGS}
    ordered, inverse, counts = np.unique(ar, return_inverse=True, return_counts=True,
                                         axis=axis, **grouping)
    inverse = np.reshape(inverse, -1)
    if axis is None and shape_of(ordered) == shape_of(values):
        # Unsorted unique values (sorted=False) list the same groups in another order.
        order = np.argsort(values, kind="stable")
        inverse, counts = order[inverse], counts[np.argsort(order)]
    return out, axis, inverse, counts


def _group_shape(counts, axis, ndim):
    """Counts shaped to divide values along ``axis`` (all of them for axis=None)."""
    if axis is None:
        return counts
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(counts, shape)


@reverse(np.unique)
def _unique(needs, ar, *args, **kwargs):
    out, axis, inverse, counts = _unique_groups(ar, args, kwargs)
    several = type(out) is tuple

    def unique_pullback(ct):
        ct = ct[0] if several else ct
        if is_zero(ct):
            return (ZERO,) * len(needs)
        share = ct / _group_shape(counts.astype(real_dtype(ct)), axis, len(shape_of(ct)))
        if axis is None:
            g = np.reshape(share[inverse], shape_of(ar))
        else:
            g = np.take(share, inverse, axis=axis)
        return (g,) + (ZERO,) * (len(needs) - 1)

    return out, unique_pullback


@forward(np.unique)
def _unique_forward(tangents, ar, *args, **kwargs):
    out, axis, inverse, counts = _unique_groups(ar, args, kwargs)
    t = tangents[0]
    if is_zero(t):
        return out, ZERO
    t = to_dense(t)
    if axis is None:
        size = len(counts)
        t = np.reshape(t, -1)
        if is_complex(t):   # bincount sums real weights
            sums = (np.bincount(inverse, np.real(t), size)
                    + 1j * np.bincount(inverse, np.imag(t), size))
        else:
            sums = np.bincount(inverse, t, size)
        dvalues = (sums / counts).astype(dtype_of(t))
    else:
        # Each group's mean along the axis: a (groups × elements) averaging matrix.
        members = inverse[None, :] == arange_like(len(counts), counts)[:, None]
        mean = (members / counts[:, None]).astype(real_dtype(t))
        dvalues = np.moveaxis(np.tensordot(mean, t, axes=([1], [axis])), 0, axis)
    if type(out) is tuple:
        return out, (dvalues,) + (ZERO,) * (len(out) - 1)
    return out, dvalues


def _like_plain_call(fn, x):
    """NumPy 2's unique_* functions: np.unique's traced values, in the order and the result
    type of the plain call, whose indices, inverse and counts carry no tangent."""
    plain = fn(primal(x))
    several = isinstance(plain, tuple)
    plain_values = plain[0] if several else plain
    values = np.unique(as_array(x), equal_nan=False)
    if shape_of(values) != shape_of(plain_values):
        values = np.unique(as_array(x))
    values = values[np.argsort(np.argsort(plain_values, kind="stable"))]
    return type(plain)(values, *plain[1:]) if several else values


if hasattr(np, "unique_all"):
    for _fn in (np.unique_values, np.unique_counts, np.unique_inverse, np.unique_all):
        derived_through(_fn)(lambda x, _fn=_fn: _like_plain_call(_fn, x))


# ---------------------------------------------------------------------------------------------
# Set operations: unique values of combinations
# ---------------------------------------------------------------------------------------------


def _flat(a):
    return np.ravel(as_array(a))


@derived_through(np.union1d)
def _union1d(ar1, ar2):
    return np.unique(np.concatenate([_flat(ar1), _flat(ar2)]))


@derived_through(np.intersect1d)
def _intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    a1, a2 = _flat(ar1), _flat(ar2)
    common, index1, index2 = np.intersect1d(primal(a1), primal(a2), assume_unique,
                                            return_indices=True)
    if assume_unique:
        values = (a1[index1] + a2[index2]) / 2
    else:
        u1, u2 = np.unique(a1), np.unique(a2)
        values = (u1[np.isin(primal(u1), common)] + u2[np.isin(primal(u2), common)]) / 2
    values = values if dtype_of(values) == dtype_of(common) else values.astype(dtype_of(common))
    return (values, index1, index2) if return_indices else values


@derived_through(np.setdiff1d)
def _setdiff1d(ar1, ar2, assume_unique=False):
    a1 = _flat(ar1) if assume_unique else np.unique(_flat(ar1))
    return a1[~np.isin(primal(a1), primal(_flat(ar2)))]


@derived_through(np.setxor1d)
def _setxor1d(ar1, ar2, assume_unique=False):
    a1, a2 = _flat(ar1), _flat(ar2)
    if not assume_unique:
        a1, a2 = np.unique(a1), np.unique(a2)
    both = np.concatenate([a1, a2])
    both = both[np.argsort(primal(both), kind="mergesort")]
    # A value kept differs from both its neighbours in the sorted list.
    values = primal(both)
    alone = np.concatenate([[True], values[1:] != values[:-1], [True]])
    return both[alone[1:] & alone[:-1]]


# ---------------------------------------------------------------------------------------------
# Partial and lexicographic sorting
# ---------------------------------------------------------------------------------------------


@derived_through(np.partition)
def _partition(a, kth, axis=-1, kind="introselect", order=None):
    a = as_array(a)
    if axis is None:
        a, axis = np.ravel(a), -1
    by = np.argpartition(primal(a), kth, axis=axis, kind=kind, order=order)
    return np.take_along_axis(a, by, axis=axis)


@derived_through(np.sort_complex)
def _sort_complex(a):
    a = as_array(a)
    values = primal(a)
    expected = np.sort_complex(values)   # NumPy's complex type for this input
    order = np.lexsort((np.imag(values), np.real(values)), axis=-1)
    out = np.take_along_axis(a, order, axis=-1)
    return out if dtype_of(out) == dtype_of(expected) else out.astype(dtype_of(expected))


# --- positions, flags and orders: no tangent --------------------------------------------------
non_differentiable(
    np.argpartition, np.isin, np.lexsort, np.nanargmax, np.nanargmin, np.ravel_multi_index,
    np.unravel_index, np.packbits, np.unpackbits, np.diag_indices_from, np.tril_indices_from,
    np.triu_indices_from, np.ix_)
if hasattr(np, "in1d"):   # NumPy before 2.4: np.isin's deprecated name
    non_differentiable(np.in1d)
