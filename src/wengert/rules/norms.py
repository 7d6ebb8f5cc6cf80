"""Rules for np.linalg.norm and the array API's vector_norm and matrix_norm, in both modes.

A norm is a real function of its input, so both modes use its gradient direction g (the
reverse-mode gradient for a unit cotangent): the pullback is ct·g and the tangent along t is
Re Σ conj(g)·t over the reduced axes. Kinks and ties follow the subgradient policy
(docs/linalg.md): 0 at a zero norm, even shares between tied entries, never NaN.

The 2-norm of a whole array keeps a sparse tangent sparse: for a OneHot tangent
d‖x‖ = Re(conj(x_i) t_i)/‖x‖ costs O(1) beyond the norm itself, so a single partial
derivative of a function of a norm costs about one evaluation of the function.
"""
import operator

import numpy as np

from ..errors import DifferentiationError
from ._helpers import (ZERO, Indexed, conj, dtype_of, forward, is_zero, real_dtype, reverse,
                       safe_divide, shape_of, to_dense)
from ._matrices import fit, per_argument, real, unit

def _axes(axis, ndim):
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(operator.index(a) % ndim for a in axes)


def _norm_call(x, ord, axis):
    """``(axes, matrix)``: the axes np.linalg.norm reduces and whether it is a matrix norm."""
    ndim = len(shape_of(x))
    if axis is None:   # all axes: a matrix norm only for a 2-D x with an ord
        return tuple(range(ndim)), ord is not None and ndim == 2
    axes = _axes(axis, ndim)
    return axes, len(axes) == 2


@reverse(np.linalg.norm)
def _norm(needs, x, ord=None, axis=None, keepdims=False):
    out = np.linalg.norm(x, ord, axis, keepdims)
    return out, _norm_pullback(needs, x, out, ord, *_norm_call(x, ord, axis))


@forward(np.linalg.norm)
def _norm_forward(tangents, x, ord=None, axis=None, keepdims=False):
    out = np.linalg.norm(x, ord, axis, keepdims)
    axes, matrix = _norm_call(x, ord, axis)
    return out, _norm_tangent(tangents[0], x, out, ord, axes, matrix, keepdims)


if hasattr(np.linalg, "vector_norm"):   # the array API's norms (NumPy 2)
    def _vector_axes(x, axis):
        ndim = len(shape_of(x))
        return tuple(range(ndim)) if axis is None else _axes(axis, ndim)

    @reverse(np.linalg.vector_norm)
    def _vector_norm(needs, x, axis=None, keepdims=False, ord=2):
        out = np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
        return out, _norm_pullback(needs, x, out, ord, _vector_axes(x, axis), False)

    @forward(np.linalg.vector_norm)
    def _vector_norm_forward(tangents, x, axis=None, keepdims=False, ord=2):
        out = np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
        axes = _vector_axes(x, axis)
        return out, _norm_tangent(tangents[0], x, out, ord, axes, False, keepdims)

    def _matrix_axes(x):
        ndim = len(shape_of(x))
        return ndim - 2, ndim - 1

    @reverse(np.linalg.matrix_norm)
    def _matrix_norm(needs, x, keepdims=False, ord="fro"):
        out = np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
        return out, _norm_pullback(needs, x, out, ord, _matrix_axes(x), True)

    @forward(np.linalg.matrix_norm)
    def _matrix_norm_forward(tangents, x, keepdims=False, ord="fro"):
        out = np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
        return out, _norm_tangent(tangents[0], x, out, ord, _matrix_axes(x), True, keepdims)


def _kept_shape(x, axes):
    return tuple(1 if i in axes else size for i, size in enumerate(shape_of(x)))


def _norm_pullback(needs, x, out, ord, axes, matrix):
    """The pullback of a vector norm over ``axes`` (flattened) or a matrix norm over the
    (row, column) ``axes``."""
    kept = _kept_shape(x, axes)

    def norm_pullback(ct):
        g = _norm_gradient(x, np.reshape(out, kept), ord, axes, matrix)
        grad = ZERO if is_zero(g) else np.reshape(ct, kept) * g
        return per_argument(needs, fit(x, grad))

    return norm_pullback


def _norm_tangent(t, x, out, ord, axes, matrix, keepdims):
    """Re Σ conj(g)·t over ``axes``: the tangent of the norm ``out`` along ``t``."""
    if isinstance(t, Indexed):
        two_norm = ord in (None, "fro") if matrix else ord in (None, 2)
        if two_norm and len(axes) == len(shape_of(x)):
            return _sparse_two_norm_tangent(t, x, out)
        t = to_dense(t)
    g = _norm_gradient(x, np.reshape(out, _kept_shape(x, axes)), ord, axes, matrix)
    if is_zero(g):
        return ZERO
    return real(np.sum(conj(g) * t, axis=axes, keepdims=keepdims))


def _sparse_two_norm_tangent(t, x, norm):
    """d‖x‖ = Re Σ conj(x_i) t_i / ‖x‖ read at the tangent's index only; 0 at x = 0."""
    return safe_divide(real(np.sum(conj(x[t.index]) * t.values)), norm)


def _norm_gradient(x, norm, ord, axes, matrix):
    """The gradient direction of the norm (``norm`` with kept dims), or ZERO."""
    if matrix and ord not in (None, "fro"):
        return _matrix_norm_gradient(x, norm, ord, axes)
    return _vector_norm_gradient(x, norm, 2 if matrix else ord, axes)


def _vector_norm_gradient(x, norm, ord, axes):
    """Gradient of the vector p-norm over ``axes``."""
    if ord is None or ord == 2:
        return safe_divide(x, norm)
    if ord == 0:  # counts non-zeros: piecewise constant
        return ZERO
    size = np.abs(x)
    if ord == np.inf or ord == -np.inf:  # ties share evenly
        return _even_shares(size == norm, axes, x) * unit(x)
    if ord == 1:
        return unit(x)
    # (Σ|x|ᵖ)^(1/p): gradient sign(x) (|x|/‖x‖)^(p-1); 0 where that ratio is 0, which is the
    # exact value for p > 1 and the subgradient policy at the kink for p < 1.
    ratio = safe_divide(size, norm)
    zero = ratio == 0
    return unit(x) * np.where(zero, 0, np.where(zero, 1, ratio) ** (ord - 1))


def _matrix_norm_gradient(x, norm, ord, axes):
    row, col = axes
    if ord in (1, -1, np.inf, -np.inf):
        # ±1: extreme column abs-sum; ±inf: extreme row abs-sum. Ties share evenly.
        summed, over = (row, col) if ord in (1, -1) else (col, row)
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        return _even_shares(sums == norm, over, x) * unit(x)
    if ord in ("nuc", 2, -2):
        moved = np.moveaxis(x, (row, col), (-2, -1))
        u, s, vh = np.linalg.svd(moved, full_matrices=False)
        if ord == "nuc":
            weights = s > 0
        else:  # the extreme singular value; ties share evenly, 0 at a zero norm
            chosen = s == (s[..., :1] if ord == 2 else s[..., -1:])
            weights = _even_shares(chosen, -1, x) * (s > 0)
        return np.moveaxis((u * weights[..., None, :]) @ vh, (-2, -1), (row, col))
    raise DifferentiationError(f"np.linalg.norm: no derivative rule for ord={ord!r}.")


def _even_shares(chosen, axis, x):
    """1/k on each of the k entries ``chosen`` along ``axis`` (0 elsewhere), in the real
    precision of ``x``: the division of booleans gives float64, which would widen the
    derivative of a float32 norm."""
    shares = chosen / np.sum(chosen, axis=axis, keepdims=True)
    if dtype_of(x).kind not in "fc":
        return shares   # an integer x: float64, as its norm is
    return shares.astype(real_dtype(x), copy=False)
