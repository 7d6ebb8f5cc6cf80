"""Products: matmul, dot, vdot, inner, outer, tensordot, einsum, kron, vecdot, cross.

Every product here is linear in each factor, so the cotangent of one factor is the output
cotangent contracted with the conjugates of the other factors (for complex arrays the
pullback of a holomorphic map multiplies by the conjugate derivative). Products sit on the
hot path of most programs: each pullback computes only the cotangents that ``needs`` asks
for, and the rarer shapes reduce to ``tensordot`` or ``einsum``.

Forward mode is the product rule: the tangent of ``P(a, b)`` is ``P(ta, b) + P(a, tb)``,
with a term skipped where a factor has no tangent (no conjugation: only vdot and vecdot
conjugate, and they conjugate the tangent of their first factor as they do the factor).
A tangent nonzero at one point of a factor (``OneHot``) times a dense matrix is one row or
column of the other factor, not a product with a mostly-zero array: matmul, dot, outer and
vdot compute just that; the other products densify it.
"""

import numpy as np

from ._helpers import (ZERO, Indexed, add, dtype_of, forward, is_complex, is_zero, reverse,
                       scale, shape_of, to_dense, unbroadcast)
from .indexing import point_of


def adjoint(a):
    """Conjugate transpose of the last two axes (just the transpose for real arrays)."""
    a = np.swapaxes(a, -1, -2)
    return np.conjugate(a) if is_complex(a) else a


def _adjoint_2d(a):
    return np.conjugate(a.T) if is_complex(a) else a.T  # .T: cheaper than swapaxes


def conj(a):
    return np.conjugate(a) if is_complex(a) else a


def operand(x):
    """Lists and tuples (of numbers, or of tracers being differentiated) as the arrays the
    products read them as, so that their shapes are known."""
    return np.asarray(x) if type(x) in (list, tuple) else x


def fit(x, g):
    """Cotangent ``g`` (same size as ``x``) given the shape of ``x`` and its real or complex
    type."""
    if shape_of(g) != shape_of(x):
        g = np.reshape(g, shape_of(x))
    return unbroadcast(x, g)


def tangent_operand(t, x):
    """The tangent of an operand as the array the product reads: a list of traced values
    has a list of tangents (``Zero`` for its constants)."""
    if type(t) is list or type(t) is tuple:
        return np.stack([np.zeros_like(operand(xi)) if is_zero(ti)
                         else to_dense(tangent_operand(ti, xi)) for ti, xi in zip(t, x)])
    return t


def product_rule(product, tangents, a, b):
    """``product(ta, b) + product(a, tb)`` (each factor's tangent made dense), skipping the
    factors without one."""
    ta, tb = tangents[0], tangents[1]
    d = ZERO if is_zero(ta) else product(to_dense(tangent_operand(ta, a)), b)
    return d if is_zero(tb) else add(d, product(a, to_dense(tangent_operand(tb, b))))


def _scalar_product_tangent(tangents, a, b):
    """The tangent of ``a * b`` where one factor is a scalar: a sparse tangent of the other
    factor stays sparse, scaled."""
    def term(t, x, other):
        if is_zero(t):
            return ZERO
        t = tangent_operand(t, x)
        return to_dense(t) * other if len(shape_of(x)) == 0 else scale(t, other)

    return add(term(tangents[0], a, b), term(tangents[1], b, a))


def _scalar_product_pullback(needs, a, b):
    """Pullback of ``a * b`` where one factor is a scalar (np.dot and np.inner allow it)."""
    def scalar_product_pullback(ct):
        return (unbroadcast(a, ct * conj(b)) if needs[0] else ZERO,
                unbroadcast(b, conj(a) * ct) if needs[1] else ZERO)

    return scalar_product_pullback


# ---------------------------------------------------------------------------------------------
# matmul (and the np.dot cases that are matmul)
# ---------------------------------------------------------------------------------------------

def _matmul_pullback(needs, a, b):
    a_shape, b_shape = shape_of(a), shape_of(b)

    def matmul_pullback(ct):
        da = db = ZERO
        if len(a_shape) == 2 and len(b_shape) == 2:  # the common case, first
            if needs[0]:
                da = unbroadcast(a, np.matmul(ct, _adjoint_2d(b)))
            if needs[1]:
                db = unbroadcast(b, np.matmul(_adjoint_2d(a), ct))
            return da, db
        if len(a_shape) == 1 and len(b_shape) == 1:
            return (unbroadcast(a, ct * conj(b)) if needs[0] else ZERO,
                    unbroadcast(b, conj(a) * ct) if needs[1] else ZERO)
        # Promote vectors to matrices, as matmul itself does, and undo it at the end.
        a2 = np.reshape(a, (1,) + a_shape) if len(a_shape) == 1 else a
        b2 = np.reshape(b, b_shape + (1,)) if len(b_shape) == 1 else b
        ct2 = ct
        if len(a_shape) == 1:
            ct2 = np.expand_dims(ct2, -2)
        if len(b_shape) == 1:
            ct2 = np.expand_dims(ct2, -1)
        if needs[0]:
            da = fit(a, unbroadcast(a2, np.matmul(ct2, adjoint(b2))))
        if needs[1]:
            db = fit(b, unbroadcast(b2, np.matmul(adjoint(a2), ct2)))
        return da, db

    return matmul_pullback


@reverse(np.matmul)
def _matmul(needs, a, b):
    a, b = operand(a), operand(b)
    return np.matmul(a, b), _matmul_pullback(needs, a, b)


@forward(np.matmul)
def _matmul_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    out = np.matmul(a, b)
    return out, _matmul_tangent(tangents, a, b, out)


def _matmul_tangent(tangents, a, b, out):
    ta, tb = (tangent_operand(t, x) for t, x in zip(tangents, (a, b)))
    d = ZERO
    if not is_zero(ta):
        d = _point_times(ta, a, b, out) if isinstance(ta, Indexed) else None
        d = np.matmul(to_dense(ta), b) if d is None else d
    if not is_zero(tb):
        db = _times_point(a, tb, out) if isinstance(tb, Indexed) else None
        d = add(d, np.matmul(a, to_dense(tb)) if db is None else db)
    return d


def _point_times(t, a, b, out):
    """``t @ b`` for a tangent ``t`` nonzero at one point (i, j) of ``a``: row j of ``b``,
    scaled, placed in row i of the result. None where ``t`` is not one point or both
    factors are batched (their batch axes could broadcast the point)."""
    point, a_ndim, b_ndim = point_of(t), len(t.shape), len(shape_of(b))
    if point is None or (a_ndim > 2 and b_ndim > 2):
        return None
    j = point[-1]
    values = t.values * (b[..., j, :] if b_ndim >= 2 else b[j])
    if a_ndim == 1:   # a vector: the row is the whole result
        return values
    # The result's row i, in each of a's batches or across b's batches.
    index = point[:-1] if b_ndim <= 2 else (Ellipsis, point[-2], slice(None))
    return Indexed(index, values, shape_of(out), dtype_of(out))


def _times_point(a, t, out):
    """``a @ t`` for a tangent ``t`` nonzero at one point (j, l) of ``b``: column j of ``a``,
    scaled, placed in column l of the result (None as in ``_point_times``)."""
    point, a_ndim, b_ndim = point_of(t), len(shape_of(a)), len(t.shape)
    if point is None or (a_ndim > 2 and b_ndim > 2):
        return None
    j = point[-2] if b_ndim >= 2 else point[0]
    values = (a[..., :, j] if a_ndim >= 2 else a[j]) * t.values
    if b_ndim == 1:   # b a vector: the column is the whole result
        return values
    if a_ndim > 2:
        index = (Ellipsis, point[-1])
    else:   # b's batches, then all rows of a matrix a (none for a vector)
        index = point[:-2] + (slice(None),) * (a_ndim - 1) + (point[-1],)
    return Indexed(index, values, shape_of(out), dtype_of(out))


# ---------------------------------------------------------------------------------------------
# tensordot and the products that are tensordots: dot, inner, outer, kron
# ---------------------------------------------------------------------------------------------

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
            da = fit(a, _reorder(g, free_a + [axes_a[j] for j in np.argsort(axes_b)]))
        if needs[1]:
            g = np.tensordot(conj(a), ct, (free_a, list(range(len(free_a)))))
            db = fit(b, _reorder(g, [axes_b[j] for j in np.argsort(axes_a)] + free_b))
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
        return out, _scalar_product_pullback(needs, a, b)
    if a_ndim == 1 or b_ndim == 1 or (a_ndim == 2 and b_ndim == 2):
        return out, _matmul_pullback(needs, a, b)  # np.dot agrees with np.matmul here
    # N-D · M-D: a's last axis against b's second-to-last.
    return out, _tensordot_pullback(needs, a, b, [a_ndim - 1], [b_ndim - 2])


@forward(np.dot)
def _dot_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    out = np.dot(a, b)
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    if a_ndim == 0 or b_ndim == 0:
        return out, _scalar_product_tangent(tangents, a, b)
    if a_ndim == 1 or b_ndim == 1 or (a_ndim == 2 and b_ndim == 2):
        return out, _matmul_tangent(tangents, a, b, out)
    return out, product_rule(np.dot, tangents, a, b)


@reverse(np.inner)
def _inner(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.inner(a, b)
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    if a_ndim == 0 or b_ndim == 0:
        return out, _scalar_product_pullback(needs, a, b)
    return out, _tensordot_pullback(needs, a, b, [a_ndim - 1], [b_ndim - 1])


@forward(np.inner)
def _inner_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    out = np.inner(a, b)
    if len(shape_of(a)) == 0 or len(shape_of(b)) == 0:
        return out, _scalar_product_tangent(tangents, a, b)
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
            da = fit(a, np.tensordot(ct, conj(b), len(b_shape)))
        if needs[1]:
            db = fit(b, np.tensordot(conj(a), ct, len(a_shape)))
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


def flat_point(t):
    """The flat position of a one-point sparse tangent (None for a dense or other one)."""
    point = point_of(t) if isinstance(t, Indexed) else None
    return None if point is None else int(np.ravel_multi_index(point, t.shape))


@reverse(np.vdot)
def _vdot(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.vdot(a, b)

    def vdot_pullback(ct):
        # out = Σ conj(a) b is anti-holomorphic in a: its cotangent is conj(ct) b.
        return (fit(a, conj(ct) * b) if needs[0] else ZERO,
                fit(b, ct * a) if needs[1] else ZERO)

    return out, vdot_pullback


@forward(np.vdot)
def _vdot_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    out = np.vdot(a, b)
    ta, tb = (tangent_operand(t, x) for t, x in zip(tangents, (a, b)))
    # vdot conjugates its first factor, so it conjugates that factor's tangent too; a point
    # of either factor meets one element of the other.
    d = ZERO
    if not is_zero(ta):
        k = flat_point(ta)
        d = np.vdot(to_dense(ta), b) if k is None else conj(ta.values) * np.ravel(b)[k]
    if not is_zero(tb):
        k = flat_point(tb)
        d = add(d, np.vdot(a, to_dense(tb)) if k is None else conj(np.ravel(a)[k]) * tb.values)
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
            da = fit(a, np.tensordot(ct, conj(np.reshape(b, b_shape)), (b_axes, list(range(ndim)))))
        if needs[1]:
            db = fit(b, np.tensordot(conj(np.reshape(a, a_shape)), ct, (list(range(ndim)), a_axes)))
        return da, db

    return out, kron_pullback


@forward(np.kron)
def _kron_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    return np.kron(a, b), product_rule(np.kron, tangents, a, b)


# ---------------------------------------------------------------------------------------------
# vecdot and cross: products along one axis
# ---------------------------------------------------------------------------------------------

def _vecdot(needs, a, b, axis=-1, keepdims=False):
    a, b = operand(a), operand(b)
    out = np.vecdot(a, b, axis=axis, keepdims=keepdims)

    def vecdot_pullback(ct):
        # out = Σ conj(a) b along the axis: as for vdot, a's cotangent is conj(ct) b and b's
        # is ct a. The contracted axis is moved last, where ct gets its length-1 axis back.
        ct = np.moveaxis(ct, axis, -1) if keepdims else np.expand_dims(ct, -1)
        a_last, b_last = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
        da = db = ZERO
        if needs[0]:
            da = np.moveaxis(unbroadcast(a_last, conj(ct) * b_last), -1, axis)
        if needs[1]:
            db = np.moveaxis(unbroadcast(b_last, ct * a_last), -1, axis)
        return da, db

    return out, vecdot_pullback


def _vecdot_forward(tangents, a, b, axis=-1, keepdims=False):
    a, b = operand(a), operand(b)
    out = np.vecdot(a, b, axis=axis, keepdims=keepdims)
    return out, product_rule(lambda x, y: np.vecdot(x, y, axis=axis, keepdims=keepdims),
                             tangents, a, b)


if hasattr(np, "vecdot"):   # NumPy 2
    reverse(np.vecdot)(_vecdot)
    forward(np.vecdot)(_vecdot_forward)


def _as_3_vectors(v):
    """Vectors along the last axis with 2 components given a third, zero one (as np.cross
    reads them)."""
    if shape_of(v)[-1] == 3:
        return v
    return np.concatenate([v, np.zeros_like(v[..., :1])], axis=-1)


@reverse(np.cross)
def _cross(needs, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    a, b = operand(a), operand(b)
    out = np.cross(a, b, axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis

    def cross_pullback(ct):
        # With the vectors along the last axis and all of them 3-vectors,
        # ⟨ct, a × b⟩ = ⟨a, b × ct⟩ = ⟨b, ct × a⟩; complex factors are conjugated.
        a_last, b_last = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
        if shape_of(a_last)[-1] == 2 and shape_of(b_last)[-1] == 2:
            zero = np.zeros_like(ct)   # two 2-vectors give only the z component
            ct3 = np.stack([zero, zero, ct], axis=-1)
        else:
            ct3 = np.moveaxis(ct, axisc, -1)
        da = db = ZERO
        if needs[0]:
            g = np.cross(conj(_as_3_vectors(b_last)), ct3)[..., :shape_of(a_last)[-1]]
            da = np.moveaxis(unbroadcast(a_last, g), -1, axisa)
        if needs[1]:
            g = np.cross(ct3, conj(_as_3_vectors(a_last)))[..., :shape_of(b_last)[-1]]
            db = np.moveaxis(unbroadcast(b_last, g), -1, axisb)
        return (da, db) + (ZERO,) * (len(needs) - 2)

    return out, cross_pullback


@forward(np.cross)
def _cross_forward(tangents, a, b, *axes, **kwargs):
    a, b = operand(a), operand(b)
    out = np.cross(a, b, *axes, **kwargs)
    return out, product_rule(lambda x, y: np.cross(x, y, *axes, **kwargs), tangents, a, b)
