"""Products: matmul, vdot, vecdot, cross, and the helpers every product rule shares
(``contractions`` has tensordot and the products that are tensordots, ``einsum`` einsum).

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

from ._helpers import (ZERO, Indexed, add, conj, dtype_of, forward, is_complex, is_zero,
                       reverse, scale, shape_of, to_dense, unbroadcast)
from .indexing import point_of


def adjoint(a):
    """Conjugate transpose of the last two axes (just the transpose for real arrays)."""
    a = np.swapaxes(a, -1, -2)
    return np.conjugate(a) if is_complex(a) else a


def _adjoint_2d(a):
    return np.conjugate(a.T) if is_complex(a) else a.T  # .T: cheaper than swapaxes


def operand(x):
    """Lists and tuples (of numbers, or of tracers being differentiated) as the arrays the
    products read them as, so that their shapes are known."""
    return np.asarray(x) if type(x) in (list, tuple) else x


def shaped_like(x, g):
    """Cotangent ``g`` (as many elements as ``x``) given the shape of ``x`` and its real or
    complex type."""
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


def scalar_product_tangent(tangents, a, b):
    """The tangent of ``a * b`` where one factor is a scalar: a sparse tangent of the other
    factor stays sparse, scaled."""
    def term(t, x, other):
        if is_zero(t):
            return ZERO
        t = tangent_operand(t, x)
        return to_dense(t) * other if len(shape_of(x)) == 0 else scale(t, other)

    return add(term(tangents[0], a, b), term(tangents[1], b, a))


def scalar_product_pullback_of(needs, a, b):
    """Pullback of ``a * b`` where one factor is a scalar (np.dot and np.inner allow it)."""
    def scalar_product_pullback(ct):
        return (unbroadcast(a, ct * conj(b)) if needs[0] else ZERO,
                unbroadcast(b, conj(a) * ct) if needs[1] else ZERO)

    return scalar_product_pullback


# ---------------------------------------------------------------------------------------------
# matmul (and the np.dot cases that are matmul)
# ---------------------------------------------------------------------------------------------

def matmul_pullback_of(needs, a, b):
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
        # New axes by indexing rather than np.expand_dims: Dask fuses an index into the
        # tasks around it, not a reshape.
        ct2 = ct
        if len(a_shape) == 1:
            ct2 = ct2[..., None, :]
        if len(b_shape) == 1:
            ct2 = ct2[..., None]
        if needs[0]:
            da = shaped_like(a, unbroadcast(a2, np.matmul(ct2, adjoint(b2))))
        if needs[1]:
            db = shaped_like(b, unbroadcast(b2, np.matmul(adjoint(a2), ct2)))
        return da, db

    return matmul_pullback


@reverse(np.matmul)
def _matmul(needs, a, b):
    a, b = operand(a), operand(b)
    return np.matmul(a, b), matmul_pullback_of(needs, a, b)


@forward(np.matmul)
def _matmul_forward(tangents, a, b):
    a, b = operand(a), operand(b)
    out = np.matmul(a, b)
    return out, matmul_tangent(tangents, a, b, out)


def matmul_tangent(tangents, a, b, out):
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
# vdot, vecdot and cross: vdot and vecdot conjugate their first factor
# ---------------------------------------------------------------------------------------------

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
        return (shaped_like(a, conj(ct) * b) if needs[0] else ZERO,
                shaped_like(b, ct * a) if needs[1] else ZERO)

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
