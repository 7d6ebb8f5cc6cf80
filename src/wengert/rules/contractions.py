"""Contractions: tensordot and the products that are tensordots — dot, inner, outer, kron.

Each pullback contracts the output cotangent with the conjugate of the other factor over the
free axes, then puts the axes back in the factor's order (``_reorder``); np.dot's matrix
and vector cases are matmul's (``products.matmul_pullback_of``). Forward mode is the product
rule; outer keeps a one-point tangent sparse (one row or column of the result).
"""
import numpy as np

from ._helpers import (ZERO, Indexed, add, conj, dtype_of, forward, is_zero, reverse, shape_of,
                       to_dense)
from .products import (flat_point, matmul_pullback_of, matmul_tangent, operand, product_rule,
                       scalar_product_pullback_of, scalar_product_tangent, shaped_like,
                       tangent_operand)


def _tensordot_axes(axes, a_ndim, b_ndim):
    """np.tensordot's ``axes`` as two lists of non-negative axes, paired in order."""
    if np.ndim(axes) == 0:
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    axes_a, axes_b = axes
    axes_a = [axes_a] if np.ndim(axes_a) == 0 else list(axes_a)
    axes_b = [axes_b] if np.ndim(axes_b) == 0 else list(axes_b)
    return [int(i) % a_ndim for i in axes_a], [int(i) % b_ndim for i in axes_b]


def _reorder(g, order):
    """``g`` whose axis ``i`` is axis ``order[i]`` of the target, with the target's order."""
    if order == sorted(order):
        return g
    return np.transpose(g, tuple(np.argsort(order)))


def _tensordot_pullback(needs, a, b, axes_a, axes_b):
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    free_a = [i for i in range(a_ndim) if i not in axes_a]
    free_b = [i for i in range(b_ndim) if i not in axes_b]
    ct_free_b = list(range(len(free_a), len(free_a) + len(free_b)))

    def tensordot_pullback(ct):
        da = db = ZERO
        if needs[0]:
            # Contracting ct's b-axes with b leaves a's free axes, then a's contracted axes in
            # the order of b's axes they were paired with.
            g = np.tensordot(ct, conj(b), (ct_free_b, free_b))
            da = shaped_like(a, _reorder(g, free_a + [axes_a[j] for j in np.argsort(axes_b)]))
        if needs[1]:
            g = np.tensordot(conj(a), ct, (free_a, list(range(len(free_a)))))
            db = shaped_like(b, _reorder(g, [axes_b[j] for j in np.argsort(axes_a)] + free_b))
        return (da, db) + (ZERO,) * (len(needs) - 2)  # np.tensordot's axes, if positional

    return tensordot_pullback


@reverse(np.tensordot)
def _tensordot(needs, a, b, axes=2):
    a, b = operand(a), operand(b)
    axes_a, axes_b = _tensordot_axes(axes, len(shape_of(a)), len(shape_of(b)))
    out = np.tensordot(a, b, (axes_a, axes_b))
    return out, _tensordot_pullback(needs, a, b, axes_a, axes_b)


@forward(np.tensordot)
def _tensordot_forward(tangents, a, b, axes=2):
    a, b = operand(a), operand(b)
    axes = _tensordot_axes(axes, len(shape_of(a)), len(shape_of(b)))
    out = np.tensordot(a, b, axes)
    return out, product_rule(lambda x, y: np.tensordot(x, y, axes), tangents, a, b)


@reverse(np.dot)
def _dot(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.dot(a, b)
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    if a_ndim == 0 or b_ndim == 0:
        return out, scalar_product_pullback_of(needs, a, b)
    if a_ndim == 1 or b_ndim == 1 or (a_ndim == 2 and b_ndim == 2):
        return out, matmul_pullback_of(needs, a, b)  # np.dot agrees with np.matmul here
    # N-D · M-D: a's last axis against b's second-to-last.
    return out, _tensordot_pullback(needs, a, b, [a_ndim - 1], [b_ndim - 2])


@forward(np.dot)
def _dot_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    out = np.dot(a, b)
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    if a_ndim == 0 or b_ndim == 0:
        return out, scalar_product_tangent(tangents, a, b)
    if a_ndim == 1 or b_ndim == 1 or (a_ndim == 2 and b_ndim == 2):
        return out, matmul_tangent(tangents, a, b, out)
    return out, product_rule(np.dot, tangents, a, b)


@reverse(np.inner)
def _inner(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.inner(a, b)
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    if a_ndim == 0 or b_ndim == 0:
        return out, scalar_product_pullback_of(needs, a, b)
    return out, _tensordot_pullback(needs, a, b, [a_ndim - 1], [b_ndim - 1])


@forward(np.inner)
def _inner_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    out = np.inner(a, b)
    if len(shape_of(a)) == 0 or len(shape_of(b)) == 0:
        return out, scalar_product_tangent(tangents, a, b)
    return out, product_rule(np.inner, tangents, a, b)


@reverse(np.outer)
def _outer(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.outer(a, b)
    a_shape, b_shape = shape_of(a), shape_of(b)

    def outer_pullback(ct):
        # Seen as a tensor of shape a.shape + b.shape, the outer product is a tensordot
        # over no axes.
        ct = np.reshape(ct, a_shape + b_shape)
        da = db = ZERO
        if needs[0]:
            da = shaped_like(a, np.tensordot(ct, conj(b), len(b_shape)))
        if needs[1]:
            db = shaped_like(b, np.tensordot(conj(a), ct, len(a_shape)))
        return da, db

    return out, outer_pullback


@forward(np.outer)
def _outer_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    out = np.outer(a, b)
    ta, tb = (tangent_operand(t, x) for t, x in zip(tangents, (a, b)))
    # A point of a (flattened: k) is row k of the result, a point of b column k.
    d = ZERO
    if not is_zero(ta):
        k = flat_point(ta)
        d = (np.outer(to_dense(ta), b) if k is None
             else Indexed((k,), ta.values * np.ravel(b), shape_of(out), dtype_of(out)))
    if not is_zero(tb):
        k = flat_point(tb)
        d = add(d, np.outer(a, to_dense(tb)) if k is None
                else Indexed((slice(None), k), np.ravel(a) * tb.values, shape_of(out),
                             dtype_of(out)))
    return out, d


@reverse(np.kron)
def _kron(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.kron(a, b)
    ndim = max(len(shape_of(a)), len(shape_of(b)))
    a_shape = (1,) * (ndim - len(shape_of(a))) + shape_of(a)
    b_shape = (1,) * (ndim - len(shape_of(b))) + shape_of(b)
    # Output axis k is the pair (a axis k, b axis k), a's index the slower one.
    paired_shape = tuple(n for pair in zip(a_shape, b_shape) for n in pair)
    a_axes = list(range(0, 2 * ndim, 2))
    b_axes = list(range(1, 2 * ndim, 2))

    def kron_pullback(ct):
        ct = np.reshape(ct, paired_shape)
        da = db = ZERO
        if needs[0]:
            g = np.tensordot(ct, conj(np.reshape(b, b_shape)), (b_axes, list(range(ndim))))
            da = shaped_like(a, g)
        if needs[1]:
            g = np.tensordot(conj(np.reshape(a, a_shape)), ct, (list(range(ndim)), a_axes))
            db = shaped_like(b, g)
        return da, db

    return out, kron_pullback


@forward(np.kron)
def _kron_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    return np.kron(a, b), product_rule(np.kron, tangents, a, b)
