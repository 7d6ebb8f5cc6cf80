"""Reverse rules for np.linalg: inv, solve, det, slogdet, cholesky, eigh, svd, qr, lstsq, pinv,
matrix_power, norm.

Every rule accepts stacks of matrices (leading axes) and complex input where NumPy does.
Cotangents follow the complex convention of API.md (∂L/∂Re A + i ∂L/∂Im A), so matrix
formulas use conjugate transposes. Conventions worth knowing (see docs/linalg.md):

- cholesky and eigh read one triangle of their (Hermitian) input; their gradient is the
  Hermitian one, the derivative along Hermitian perturbations (as in JAX and PyTorch).
- Degenerate eigenvalues / singular values: couplings between (numerically) equal values are
  dropped, which is exact for losses invariant within the degenerate subspace.
- Pullbacks are NumPy code on possibly traced values, so every rule nests (order 2 and up).
"""
import operator

import numpy as np

from ..errors import DifferentiationError, no_rule
from ..registry import name_of, primitive, reverse_rules
from ._helpers import (ZERO, dtype_of, is_complex, is_zero, non_differentiable, reverse,
                       safe_divide, shape_of, unbroadcast)
from .products import adjoint, conj

# Gaps between eigenvalues (singular values) below this fraction of their total size count
# as degenerate: their coupling terms would be 1/gap, pure rounding noise.
_DEGENERACY = 16

# NumPy 2 treats solve's b as a vector only when it is 1-D; NumPy 1 when it has one axis
# fewer than a.
_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


# --- small matrix helpers (NumPy only, so they nest) --------------------------------------------

def _real_dtype(a):
    return np.finfo(dtype_of(a)).dtype


def _eye(n, like):
    return np.eye(n, dtype=_real_dtype(like))


def _diag_embed(v):
    """A stack of diagonal matrices with diagonals ``v`` (..., n)."""
    return v[..., :, None] * _eye(shape_of(v)[-1], v)


def _diag_part(m):
    """The diagonals (..., n) of a stack of square matrices, as a product with I so it nests."""
    return np.sum(m * _eye(shape_of(m)[-1], m), axis=-1)


def _hermitian_part(m):
    return (m + adjoint(m)) / 2


def _matrix_scalar(c):
    """A stack of scalars (...) shaped to scale a stack of matrices (..., 1, 1)."""
    return np.reshape(c, shape_of(c) + (1, 1))


def _per_argument(needs, *grads):
    """One cotangent per positional argument: ``grads`` for the first ones, ZERO after."""
    grads = grads + (ZERO,) * (len(needs) - len(grads))
    return tuple(g if need else ZERO for g, need in zip(grads, needs))


def _fit(a, g):
    """Cotangent ``g`` made real where ``a`` is real (and summed over broadcast axes)."""
    return ZERO if is_zero(g) else unbroadcast(a, g)


def _inverse_gaps(values):
    """F[..., i, j] = 1 / (values_j - values_i), 0 on the diagonal and for degenerate pairs."""
    gaps = values[..., None, :] - values[..., :, None]
    scale = np.sum(np.abs(values), axis=-1)[..., None, None]
    tiny = np.abs(gaps) <= _DEGENERACY * np.finfo(_real_dtype(values)).eps * scale
    return np.where(tiny, 0, 1 / np.where(tiny, 1, gaps))


def _safe_reciprocal(s):
    """1/s for singular values, 0 where s is (numerically) zero."""
    scale = np.sum(s, axis=-1)[..., None]
    tiny = s <= _DEGENERACY * np.finfo(_real_dtype(s)).eps * scale
    return np.where(tiny, 0, 1 / np.where(tiny, 1, s))


def _unit(x):
    """x/|x| (the sign for real x), 0 at 0: the derivative of |x|."""
    return safe_divide(x, np.abs(x)) if is_complex(x) else np.sign(x)


# --- triangular solves -------------------------------------------------------------------------
# NumPy has no triangular solve and SciPy is optional. A blocked substitution does it with
# matrix products (about n²k flops, as fast as LAPACK's trsm) instead of an LU of the whole
# triangular matrix; only the small diagonal blocks are inverted.

_BLOCK = 64


@primitive
def solve_triangular(t, b, lower):
    """``T⁻¹ B`` for a stack of triangular ``T`` (only the ``lower`` / upper triangle is
    read) and a stack of matrices ``B``."""
    batch = np.broadcast_shapes(np.shape(t)[:-2], np.shape(b)[:-2])
    x = np.broadcast_to(b, batch + np.shape(b)[-2:]).astype(np.result_type(t, b), order="C")
    _substitute(t, x, lower)
    return x


def _substitute(t, x, lower):
    """Overwrite ``x`` with ``T⁻¹ x``. Only ever sees concrete arrays: solve_triangular is a
    primitive, so traced calls go through its rule."""
    n = t.shape[-1]
    if n <= _BLOCK:
        triangle = np.tri(n, dtype=bool)
        x[...] = np.linalg.inv(np.where(triangle if lower else triangle.T, t, 0)) @ x
        return
    h = n // 2
    first, second = (slice(None, h), slice(h, None)) if lower else (slice(h, None),
                                                                      slice(None, h))
    _substitute(t[..., first, first], x[..., first, :], lower)
    x[..., second, :] -= t[..., second, first] @ x[..., first, :]
    _substitute(t[..., second, second], x[..., second, :], lower)


@reverse(solve_triangular)
def _solve_triangular(needs, t, b, lower):
    x = solve_triangular(t, b, lower)

    def solve_triangular_pullback(ct):
        b_ct = solve_triangular(adjoint(t), ct, not lower)
        t_ct = ZERO
        if needs[0]:
            triangle = np.tri(shape_of(t)[-1], dtype=_real_dtype(t))
            t_ct = unbroadcast(t, -(b_ct @ adjoint(x)) * (triangle if lower else triangle.T))
        return _per_argument(needs, t_ct, unbroadcast(b, b_ct))

    return x, solve_triangular_pullback


# --- inverse, solve, determinants -------------------------------------------------------------

@reverse(np.linalg.inv)
def _inv(needs, a):
    inverse = np.linalg.inv(a)

    def inv_pullback(ct):
        inverse_h = adjoint(inverse)
        return (_fit(a, -(inverse_h @ ct @ inverse_h)),)

    return inverse, inv_pullback


def _b_is_vector(a, b):
    b_ndim = len(shape_of(b))
    return b_ndim == 1 if _NUMPY2 else b_ndim == len(shape_of(a)) - 1


@reverse(np.linalg.solve)
def _solve(needs, a, b):
    x = np.linalg.solve(a, b)

    def solve_pullback(ct):
        # x = A⁻¹b: one solve with Aᴴ gives b̄ = A⁻ᴴ x̄, and then Ā = -b̄ xᴴ.
        vector = _b_is_vector(a, b)
        ct_m = ct[..., None] if vector else ct
        x_m = x[..., None] if vector else x
        b_ct = np.linalg.solve(adjoint(a), ct_m)
        a_ct = unbroadcast(a, -(b_ct @ adjoint(x_m))) if needs[0] else ZERO
        if needs[1]:
            b_ct = unbroadcast(b, b_ct[..., 0] if vector else b_ct)
        return _per_argument(needs, a_ct, b_ct)

    return x, solve_pullback


@reverse(np.linalg.det)
def _det(needs, a):
    det = np.linalg.det(a)

    def det_pullback(ct):
        # d det = det · tr(A⁻¹ dA). A singular A raises LinAlgError (see docs/linalg.md).
        return (_fit(a, _matrix_scalar(ct * conj(det)) * adjoint(np.linalg.inv(a))),)

    return det, det_pullback


@reverse(np.linalg.slogdet)
def _slogdet(needs, a):
    out = np.linalg.slogdet(a)

    def slogdet_pullback(cts):
        sign_ct, logabsdet_ct = cts
        # d log|det| = Re tr(A⁻¹dA); for complex A, d sign = sign · i Im tr(A⁻¹dA). A real
        # sign is piecewise constant: its cotangent is dropped.
        coefficient = logabsdet_ct
        if is_complex(a) and not is_zero(sign_ct):
            coefficient = coefficient + 1j * np.imag(sign_ct * np.conjugate(out[0]))
        if is_zero(coefficient):
            return (ZERO,)
        return (_fit(a, _matrix_scalar(coefficient) * adjoint(np.linalg.inv(a))),)

    return out, slogdet_pullback


@reverse(np.linalg.matrix_power)
def _matrix_power(needs, a, n):
    n = operator.index(n)
    out = np.linalg.matrix_power(a, n)

    def matrix_power_pullback(ct):
        if n == 0:   # the identity
            return _per_argument(needs)
        if n > 0:
            return _per_argument(needs, _fit(a, _power_sum(adjoint(a), ct, n)[0]))
        inverse_h = adjoint(np.linalg.inv(a))
        grad = -(inverse_h @ _power_sum(inverse_h, ct, -n)[0] @ inverse_h)
        return _per_argument(needs, _fit(a, grad))

    return out, matrix_power_pullback


def _power_sum(b, c, k):
    """``(Σ_{j<k} Bʲ C Bᵏ⁻¹⁻ʲ, Bᵏ)`` in O(log k) products: the pullback of A ↦ Aᵏ with B = Aᴴ."""
    if k == 1:
        return c, b
    if k % 2 == 0:
        s, power = _power_sum(b, c, k // 2)
        return s @ power + power @ s, power @ power
    s, power = _power_sum(b, c, k - 1)
    return s @ b + power @ c, power @ b


# --- factorizations ---------------------------------------------------------------------------

@reverse(np.linalg.cholesky)
def _cholesky(needs, a, **kwargs):
    factor = np.linalg.cholesky(a, **kwargs)
    upper = kwargs.get("upper", False)

    def cholesky_pullback(ct):
        if upper:  # U = Lᴴ
            return (_fit(a, _cholesky_cotangent(adjoint(factor), adjoint(ct))),)
        return (_fit(a, _cholesky_cotangent(factor, ct)),)

    return factor, cholesky_pullback


def _cholesky_cotangent(l, l_ct):
    """Ā = herm(L⁻ᴴ Φ(Lᴴ L̄) L⁻¹), Φ = strict lower triangle plus half the diagonal.

    Two triangular solves and one product: no inverse, no O(n³) work beyond those.
    """
    n = shape_of(l)[-1]
    phi = np.tri(n, dtype=_real_dtype(l)) - 0.5 * _eye(n, l)
    l_h = adjoint(l)
    p = (l_h @ l_ct) * phi
    left = solve_triangular(l_h, p, False)               # L⁻ᴴ P
    s_h = solve_triangular(l_h, adjoint(left), False)    # L⁻ᴴ Pᴴ L⁻¹ = Sᴴ
    return _hermitian_part(s_h)


@reverse(np.linalg.eigh)
def _eigh(needs, a, *args, **kwargs):
    out = np.linalg.eigh(a, *args, **kwargs)

    def eigh_pullback(cts):
        w_ct, v_ct = cts
        w, v = out
        inner = ZERO if is_zero(w_ct) else _diag_embed(w_ct)
        if not is_zero(v_ct):
            # Eigenvectors move by V (F ∘ Vᴴ dA V); F drops degenerate pairs.
            inner = inner + _inverse_gaps(w) * (adjoint(v) @ v_ct)
        if is_zero(inner):
            return _per_argument(needs)
        return _per_argument(needs, _fit(a, _hermitian_part(v @ inner @ adjoint(v))))

    return out, eigh_pullback


@reverse(np.linalg.eigvalsh)
def _eigvalsh(needs, a, *args, **kwargs):
    w, v = np.linalg.eigh(a, *args, **kwargs)

    def eigvalsh_pullback(ct):   # V diag(w̄) Vᴴ, whatever the multiplicities
        return _per_argument(needs, _fit(a, (v * ct[..., None, :]) @ adjoint(v)))

    return w, eigvalsh_pullback


@reverse(np.linalg.svd)
def _svd(needs, a, full_matrices=True, compute_uv=True, hermitian=False):
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    if not compute_uv:
        def singular_values_pullback(ct):
            u, s, vh = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
            grad = _svd_cotangent(u, s, vh, ZERO, ct, ZERO, hermitian)
            return _per_argument(needs, _fit(a, grad))

        return np.linalg.svd(a, compute_uv=False, hermitian=hermitian), singular_values_pullback

    out = np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)

    def svd_pullback(cts):
        u_ct, s_ct, vh_ct = cts
        u, s, vh = out
        if full_matrices and m != n:
            if not (is_zero(u_ct) and is_zero(vh_ct)):
                raise DifferentiationError(
                    "np.linalg.svd(a, full_matrices=True) of a non-square matrix: the extra "
                    "singular vectors are arbitrary and have no derivative. Use "
                    "full_matrices=False.")
            u, vh = u[..., :, :k], vh[..., :k, :]
        grad = _svd_cotangent(u, s, vh, u_ct, s_ct, vh_ct, hermitian)
        return _per_argument(needs, _fit(a, grad))

    return out, svd_pullback


if hasattr(np.linalg, "svdvals"):
    @reverse(np.linalg.svdvals)
    def _svdvals(needs, a):
        return _svd(needs, a, compute_uv=False)


def _svd_cotangent(u, s, vh, u_ct, s_ct, vh_ct, hermitian):
    """Ā for A = U diag(s) Vᴴ (thin), derived in docs/linalg.md."""
    m, n = shape_of(u)[-2], shape_of(vh)[-1]
    inner = ZERO if is_zero(s_ct) else _diag_embed(s_ct)
    outside = phase = ZERO
    if is_zero(u_ct) and is_zero(vh_ct):   # singular values only: Ā = U diag(s̄) Vᴴ
        grad = u @ inner @ vh
        return _hermitian_part(grad) if hermitian else grad
    s_inv = _safe_reciprocal(s)
    gaps = _inverse_gaps(s * s)
    if not is_zero(u_ct):
        ju = adjoint(u) @ u_ct
        inner = inner + (gaps * (ju - adjoint(ju))) * s[..., None, :]
        if is_complex(u):
            phase = phase + np.imag(_diag_part(ju))
        if m > n:  # the part of Ū outside span(U): (I - UUᴴ) Ū S⁻¹ Vᴴ
            outside = outside + ((u_ct - u @ ju) * s_inv[..., None, :]) @ vh
    if not is_zero(vh_ct):
        v_ct_h = vh_ct  # V̄ = Vh̄ᴴ, since Vh = Vᴴ
        jv = vh @ adjoint(v_ct_h)
        inner = inner + s[..., :, None] * (gaps * (jv - adjoint(jv)))
        if is_complex(vh):
            phase = phase - np.imag(_diag_part(jv))
        if n > m:  # U S⁻¹ V̄ᴴ (I - VVᴴ)
            outside = outside + (u * s_inv[..., None, :]) @ (v_ct_h - adjoint(jv) @ vh)
    if not is_zero(phase):
        # The phase of each singular pair is a gauge; split it evenly between U and V.
        inner = inner + _diag_embed(0.5j * phase * s_inv)
    grad = u @ inner @ vh + outside
    return _hermitian_part(grad) if hermitian else grad


@reverse(np.linalg.qr)
def _qr(needs, a, mode="reduced"):
    out = np.linalg.qr(a, mode=mode)
    m, n = shape_of(a)[-2:]
    if mode not in ("reduced", "complete", "r") or m < n or (mode == "complete" and m != n):
        def qr_unsupported_pullback(ct):
            raise DifferentiationError(
                f"np.linalg.qr(a, mode={mode!r}) of a {m}x{n} matrix has no derivative rule: "
                "wengert differentiates mode='reduced' (or 'r') for m >= n, and 'complete' "
                "for square matrices.")

        return out, qr_unsupported_pullback

    def qr_pullback(cts):
        if mode == "r":
            q, r = np.linalg.qr(a)
            q_ct, r_ct = ZERO, cts
        else:
            (q, r), (q_ct, r_ct) = out, cts
        return _per_argument(needs, _fit(a, _qr_cotangent(q, r, q_ct, r_ct)))

    return out, qr_pullback


def _qr_cotangent(q, r, q_ct, r_ct):
    """Ā = (Q̄ + Q N) R⁻ᴴ, N the Hermitian matrix with the upper triangle of R̄Rᴴ - QᴴQ̄."""
    m_ = ZERO if is_zero(r_ct) else r_ct @ adjoint(r)
    if not is_zero(q_ct):
        m_ = m_ - adjoint(q) @ q_ct
    n = shape_of(r)[-1]
    strict_upper = np.tri(n, k=-1, dtype=_real_dtype(r)).T
    upper = m_ * strict_upper
    diagonal = _diag_part(m_)
    if is_complex(r):
        diagonal = np.real(diagonal)
    b = q @ (upper + adjoint(upper) + _diag_embed(diagonal))
    if not is_zero(q_ct):
        b = b + q_ct
    # B R⁻ᴴ = (R⁻¹ Bᴴ)ᴴ
    return adjoint(solve_triangular(r, adjoint(b), False))


# --- least squares and pseudo-inverse -------------------------------------------------------

@reverse(np.linalg.pinv)
def _pinv(needs, a, *args, **kwargs):
    x = np.linalg.pinv(a, *args, **kwargs)
    hermitian = args[1] if len(args) > 1 else kwargs.get("hermitian", False)

    def pinv_pullback(ct):
        grad = _pinv_cotangent(a, x, ct)
        return _per_argument(needs, _fit(a, _hermitian_part(grad) if hermitian else grad))

    return x, pinv_pullback


def _pinv_cotangent(a, x, x_ct):
    """Adjoint of dA⁺ = -A⁺dA A⁺ + A⁺A⁺ᴴdAᴴ(I - AA⁺) + (I - A⁺A)dAᴴA⁺ᴴA⁺ (constant rank)."""
    x_h = adjoint(x)
    x_ct_h = adjoint(x_ct)
    grad = -(x_h @ x_ct @ x_h)
    left = x_ct_h @ (x @ x_h)            # X̄ᴴ A⁺A⁺ᴴ, then (I - AA⁺) on the left
    grad = grad + left - a @ (x @ left)
    right = x_h @ (x @ x_ct_h)           # A⁺ᴴA⁺X̄ᴴ, then (I - A⁺A) on the right
    return grad + right - (right @ x) @ a


@reverse(np.linalg.lstsq)
def _lstsq(needs, a, b, *args, **kwargs):
    out = np.linalg.lstsq(a, b, *args, **kwargs)

    def lstsq_pullback(cts):
        x_ct, residuals_ct, _, s_ct = cts
        x, residuals = out[0], out[1]
        vector = len(shape_of(b)) == 1
        b_m = b[:, None] if vector else b
        x_m = x[:, None] if vector else x
        a_ct = b_ct = ZERO
        if not is_zero(x_ct):  # x = A⁺b, for A of full rank
            x_ct_m = x_ct[:, None] if vector else x_ct
            pseudo_inverse = np.linalg.pinv(a)
            if needs[1]:
                b_ct = adjoint(pseudo_inverse) @ x_ct_m
            if needs[0]:
                a_ct = _pinv_cotangent(a, pseudo_inverse, x_ct_m @ adjoint(b_m))
        if not is_zero(residuals_ct) and shape_of(residuals)[0] > 0:
            # residuals = Σ|b - Ax|² per column; x's own change does not move it (Aᴴr = 0).
            weighted = 2 * (b_m - a @ x_m) * residuals_ct
            b_ct = b_ct + weighted
            a_ct = a_ct - weighted @ adjoint(x_m)
        if not is_zero(s_ct):
            u, _, vh = np.linalg.svd(a, full_matrices=False)
            a_ct = a_ct + (u * s_ct) @ vh
        if not is_zero(b_ct) and vector:
            b_ct = b_ct[:, 0]
        return _per_argument(needs, _fit(a, a_ct), _fit(b, b_ct))

    return out, lstsq_pullback


# --- norms ------------------------------------------------------------------------------------

@reverse(np.linalg.norm)
def _norm(needs, x, ord=None, axis=None, keepdims=False):
    out = np.linalg.norm(x, ord, axis, keepdims)
    ndim = len(shape_of(x))
    if axis is None:   # all axes: a matrix norm only for a 2-D x with an ord
        return _norm_rule(needs, x, out, ord, tuple(range(ndim)), ord is not None and ndim == 2)
    axes = _axes(axis, ndim)
    return _norm_rule(needs, x, out, ord, axes, len(axes) == 2)


if hasattr(np.linalg, "vector_norm"):   # the array API's norms (NumPy 2)
    @reverse(np.linalg.vector_norm)
    def _vector_norm(needs, x, axis=None, keepdims=False, ord=2):
        out = np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
        ndim = len(shape_of(x))
        axes = tuple(range(ndim)) if axis is None else _axes(axis, ndim)
        return _norm_rule(needs, x, out, ord, axes, False)

    @reverse(np.linalg.matrix_norm)
    def _matrix_norm(needs, x, keepdims=False, ord="fro"):
        out = np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
        ndim = len(shape_of(x))
        return _norm_rule(needs, x, out, ord, (ndim - 2, ndim - 1), True)


def _axes(axis, ndim):
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(operator.index(a) % ndim for a in axes)


def _norm_rule(needs, x, out, ord, axes, matrix):
    """The pullback of a vector norm over ``axes`` (flattened) or a matrix norm over the
    (row, column) ``axes``."""
    kept = tuple(1 if i in axes else size for i, size in enumerate(shape_of(x)))

    def norm_pullback(ct):
        ct_kept = np.reshape(ct, kept)
        out_kept = np.reshape(out, kept)
        if matrix and ord not in (None, "fro"):
            grad = _matrix_norm_cotangent(x, ct_kept, out_kept, ord, axes)
        else:
            grad = _vector_norm_cotangent(x, ct_kept, out_kept, 2 if matrix else ord, axes)
        return _per_argument(needs, _fit(x, grad))

    return out, norm_pullback


def _vector_norm_cotangent(x, ct, norm, ord, axes):
    """Gradient of the vector p-norm over ``axes``; ``ct`` and ``norm`` have kept dims."""
    if ord is None or ord == 2:
        return ct * safe_divide(x, norm)
    if ord == 0:  # counts non-zeros: piecewise constant
        return ZERO
    size = np.abs(x)
    if ord == np.inf or ord == -np.inf:  # ties share the cotangent evenly
        chosen = size == norm
        share = chosen / np.sum(chosen, axis=axes, keepdims=True)
        return ct * share * _unit(x)
    if ord == 1:
        return ct * _unit(x)
    # (Σ|x|ᵖ)^(1/p): gradient sign(x) (|x|/‖x‖)^(p-1); 0 where that ratio is 0, which is the
    # exact value for p > 1 and the subgradient policy at the kink for p < 1.
    ratio = safe_divide(size, norm)
    zero = ratio == 0
    return ct * _unit(x) * np.where(zero, 0, np.where(zero, 1, ratio) ** (ord - 1))


def _matrix_norm_cotangent(x, ct, norm, ord, axes):
    row, col = axes
    if ord in (1, -1, np.inf, -np.inf):
        # ±1: extreme column abs-sum; ±inf: extreme row abs-sum. Ties share evenly.
        summed, over = (row, col) if ord in (1, -1) else (col, row)
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        chosen = sums == norm
        share = chosen / np.sum(chosen, axis=over, keepdims=True)
        return ct * share * _unit(x)
    if ord in ("nuc", 2, -2):
        moved = np.moveaxis(x, (row, col), (-2, -1))
        u, s, vh = np.linalg.svd(moved, full_matrices=False)
        if ord == "nuc":
            weights = s > 0
        else:  # the extreme singular value; ties share evenly, 0 at a zero norm
            chosen = s == (s[..., :1] if ord == 2 else s[..., -1:])
            weights = (chosen / np.sum(chosen, axis=-1, keepdims=True)) * (s > 0)
        grad = (u * weights[..., None, :]) @ vh
        return np.moveaxis(grad * np.moveaxis(ct, (row, col), (-2, -1)), (-2, -1), (row, col))
    raise DifferentiationError(f"np.linalg.norm: no derivative rule for ord={ord!r}.")


# --- the rest of the namespace ------------------------------------------------------------------

non_differentiable(np.linalg.matrix_rank)

# np.linalg's array-API functions that are another NumPy function with fixed keywords: they
# use that function's rule.
_SAME_AS = {
    "matmul": (np.matmul, {}),
    "outer": (np.outer, {}),
    "tensordot": (np.tensordot, {}),
    "matrix_transpose": ("matrix_transpose", {}),
    "trace": (np.trace, {"axis1": -2, "axis2": -1}),
    "diagonal": (np.diagonal, {"axis1": -2, "axis2": -1}),
    "vecdot": ("vecdot", {}),
    "cross": (np.cross, {}),
}


def _same_as(target, fixed):
    def rule(needs, *args, **kwargs):
        target_rule = reverse_rules.lookup(target, args)
        if target_rule is None:
            raise no_rule(name_of(target))
        kwargs = {**fixed, **kwargs}
        if target_rule.masked:
            return target_rule.impl(needs, *args, **kwargs)
        return target_rule.impl(*args, **kwargs)

    return rule


for _name, (_target, _fixed) in _SAME_AS.items():
    _target = getattr(np, _target, None) if isinstance(_target, str) else _target
    _alias = getattr(np.linalg, _name, None)
    if _alias is not None and _target is not None and _alias is not _target:
        reverse_rules.add(_alias, (), _same_as(_target, _fixed), masked=True)
