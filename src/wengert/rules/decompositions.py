"""Rules for np.linalg's factorizations: cholesky, svd, svdvals, qr (eigh and eigvalsh are in
rules/eigh.py, imported from here).

Each forward rule sits under its reverse rule and the two are adjoint to each other (the
tests check ⟨ct, J t⟩ = ⟨Jᴴ ct, t⟩ between the modes). Conventions (docs/linalg.md):

- cholesky and svd/pinv with ``hermitian=True`` read one triangle of their input. Both
  modes use the Hermitian derivative: the forward rules act on the Hermitian part of the
  tangent, (T + Tᴴ)/2, and the reverse rules return a Hermitian gradient, as JAX and PyTorch
  do. Neither depends on which triangle is read.
- eigh and eigvalsh differentiate what NumPy computes, a function of the triangle that UPLO
  names (see rules/eigh.py).
- Eigenvectors and singular vectors have a gauge (sign, or phase for complex input). The
  derivative fixes it: Vᴴ dV has a zero diagonal for eigh, each singular pair's phase change
  is split evenly between U and V, and the extra columns of ``full_matrices=True`` factors
  move by the least rotation that keeps them orthogonal to the others.
- Degenerate eigenvalues / singular values: couplings between (numerically) equal values are
  dropped, which is exact for losses invariant within the degenerate subspace.
"""
import numpy as np

from ..arraytypes import implementation
from ..errors import DifferentiationError
from ._helpers import (ZERO, forward, is_complex, is_zero, real_dtype, reverse, shape_of, to_dense,
                       tri_like)
from ._matrices import (adjoint, diag_embed, diag_part, eye, fit, hermitian_part, inverse_gaps,
                        per_argument, real, remember_triangular, safe_reciprocal,
                        singular_value_tangents, triangular_times)
from .eigh import eigh_tangents  # noqa: F401  (importing it registers eigh and eigvalsh)
from .solves import solve_triangular


# --- cholesky ---------------------------------------------------------------------------------

def _phi(l):
    """The mask of the lower triangle with half the diagonal."""
    n = shape_of(l)[-1]
    return tri_like(n, l, dtype=real_dtype(l)) - 0.5 * eye(n, l)


@reverse(np.linalg.cholesky)
def _cholesky(needs, a, **kwargs):
    factor = implementation(np.linalg.cholesky, a)(a, **kwargs)
    upper = kwargs.get("upper", False)
    remember_triangular(factor, lower=not upper)

    def cholesky_pullback(ct):
        if upper:  # U = Lᴴ
            return (fit(a, _cholesky_cotangent(adjoint(factor), adjoint(ct))),)
        return (fit(a, _cholesky_cotangent(factor, ct)),)

    return factor, cholesky_pullback


@forward(np.linalg.cholesky)
def _cholesky_forward(tangents, a, **kwargs):
    factor = implementation(np.linalg.cholesky, a)(a, **kwargs)
    remember_triangular(factor, lower=not kwargs.get("upper", False))
    s = hermitian_part(to_dense(tangents[0]))
    if kwargs.get("upper", False):  # U = Lᴴ
        return factor, adjoint(_cholesky_tangent(adjoint(factor), s))
    return factor, _cholesky_tangent(factor, s)


def _cholesky_tangent(l, s):
    """dL = L Φ(L⁻¹ S L⁻ᴴ) for a Hermitian S: two triangular solves and one product."""
    left = solve_triangular(l, s, True)                  # L⁻¹ S
    inner = solve_triangular(l, adjoint(left), True)     # L⁻¹ S L⁻ᴴ, as Sᴴ = S
    return triangular_times(l, inner * _phi(l), lower=True)


def _cholesky_cotangent(l, l_ct):
    """Ā = herm(L⁻ᴴ Φ(Lᴴ L̄) L⁻¹), the adjoint of ``_cholesky_tangent``.

    Two triangular solves and one product: no inverse, no O(n³) work beyond those. A large
    real matrix takes the blocked sweep instead, at about a quarter of the flops.
    """
    if _sweep_applies(l, l_ct):
        return _cholesky_cotangent_blocked(l, l_ct)
    return _cholesky_cotangent_dense(l, l_ct)


# Murray (2016), "Differentiation of the Cholesky decomposition", blocked reverse sweep: the
# cotangent is formed in place, one block column at a time from the last, with matrix
# products on the panels below each diagonal block and the formula above on the block
# itself — about N³ flops where the formula above takes 4N³.
_SWEEP_BLOCK = 128


def _sweep_applies(l, l_ct):
    """Concrete, real, single matrices large enough for the blocked sweep to pay."""
    return (type(l) is np.ndarray and isinstance(l_ct, np.ndarray) and l.ndim == 2
            and l_ct.ndim == 2 and l.dtype.kind == "f" and l_ct.dtype.kind == "f"
            and l.shape[0] > 2 * _SWEEP_BLOCK)


def _cholesky_cotangent_blocked(l, l_ct):
    """The same Ā as ``_cholesky_cotangent`` by the blocked sweep. ``work`` holds Murray's
    lower-triangular Ā, whose symmetric part is the Hermitian gradient."""
    n = l.shape[0]
    work = np.tril(l_ct).astype(np.result_type(l, l_ct))
    for start in reversed(range(0, n, _SWEEP_BLOCK)):
        end = min(start + _SWEEP_BLOCK, n)
        row, diagonal = l[start:end, :start], l[start:end, start:end]
        row_ct, diagonal_ct = work[start:end, :start], work[start:end, start:end]
        if end < n:
            below, panel = l[end:, :start], l[end:, start:end]
            below_ct, panel_ct = work[end:, :start], work[end:, start:end]
            panel_ct[...] = solve_triangular(diagonal.T, panel_ct.T, False).T   # C̄ D⁻¹
            below_ct -= panel_ct @ row
            diagonal_ct -= np.tril(panel_ct.T @ panel)
            row_ct -= panel_ct.T @ below
        symmetric = _cholesky_cotangent_dense(diagonal, diagonal_ct)
        row_ct -= 2 * symmetric @ row
        diagonal_ct[...] = np.tril(2 * symmetric, -1) + np.diag(np.diag(symmetric))
    return (work + work.T) / 2


def _cholesky_cotangent_dense(l, l_ct):
    l_h = adjoint(l)
    p = triangular_times(l, l_ct, lower=True, adjoint_t=True) * _phi(l)
    left = solve_triangular(l_h, p, False)
    return hermitian_part(solve_triangular(l_h, adjoint(left), False))


# --- svd, svdvals -----------------------------------------------------------------------------

@reverse(np.linalg.svd)
def _svd(needs, a, full_matrices=True, compute_uv=True, hermitian=False):
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    if not compute_uv:
        def singular_values_pullback(ct):
            u, s, vh = implementation(np.linalg.svd, a)(a, full_matrices=False, hermitian=hermitian)
            grad = _svd_cotangent(u, s, vh, ZERO, ct, ZERO, hermitian)
            return per_argument(needs, fit(a, grad))

        return implementation(np.linalg.svd, a)(a, compute_uv=False, hermitian=hermitian), singular_values_pullback

    out = implementation(np.linalg.svd, a)(a, full_matrices=full_matrices, hermitian=hermitian)

    def svd_pullback(cts):
        u_ct, s_ct, vh_ct = cts
        u, s, vh = out
        if full_matrices and m != n:
            u_ct, vh_ct = _thin_cotangents(u, vh, u_ct, vh_ct, k)
            u, vh = u[..., :, :k], vh[..., :k, :]
        grad = _svd_cotangent(u, s, vh, u_ct, s_ct, vh_ct, hermitian)
        return per_argument(needs, fit(a, grad))

    return out, svd_pullback


@forward(np.linalg.svd)
def _svd_forward(tangents, a, full_matrices=True, compute_uv=True, hermitian=False):
    da = to_dense(tangents[0])
    if hermitian:
        da = hermitian_part(da)
    if not compute_uv:
        u, _, vh = implementation(np.linalg.svd, a)(a, full_matrices=False, hermitian=hermitian)
        s = implementation(np.linalg.svd, a)(a, compute_uv=False, hermitian=hermitian)
        return s, singular_value_tangents(u, vh, da)
    out = implementation(np.linalg.svd, a)(a, full_matrices=full_matrices, hermitian=hermitian)
    return out, svd_factor_tangents(out, da, full_matrices)


def svd_factor_tangents(factors, da, full_matrices):
    """The tangents of the factors ``(u, s, vh)`` of A along ``da`` (NumPy's and SciPy's
    conventions are the same): thin factors directly, full ones extended beyond min(m, n)."""
    u, s, vh = factors
    m, n = shape_of(u)[-2], shape_of(vh)[-1]
    k = min(m, n)
    if not (full_matrices and m != n):
        return _svd_tangents(u, s, vh, da)
    du, ds, dvh = _svd_tangents(u[..., :, :k], s, vh[..., :k, :], da)
    dv = _extend_columns(adjoint(vh), adjoint(dvh), k)   # V = Vhᴴ
    return _extend_columns(u, du, k), ds, adjoint(dv)


if hasattr(np.linalg, "svdvals"):
    @reverse(np.linalg.svdvals)
    def _svdvals(needs, a):
        return _svd(needs, a, compute_uv=False)

    @forward(np.linalg.svdvals)
    def _svdvals_forward(tangents, a):
        return _svd_forward(tangents, a, compute_uv=False)


def _svd_tangents(u, s, vh, da):
    """(dU, ds, dVh) of the thin A = U diag(s) Vh along dA (see docs/linalg.md)."""
    m, n, k = shape_of(u)[-2], shape_of(vh)[-1], shape_of(s)[-1]
    v = adjoint(vh)
    p = adjoint(u) @ da @ v
    s_inv = safe_reciprocal(s)
    gaps = inverse_gaps(s * s)
    ps = p * s[..., None, :]
    sp = s[..., :, None] * p
    # Uᴴ dU = F ∘ (PS + SPᴴ), Vᴴ dV = F ∘ (SP + PᴴS), F_ij = 1/(s_j² - s_i²).
    omega_u = gaps * (ps + adjoint(ps))
    omega_v = gaps * (sp + adjoint(sp))
    if is_complex(p):
        # The phase of each singular pair is a gauge: Im P_ii / s_i, split evenly.
        phase = diag_embed(0.5j * np.imag(diag_part(p)) * s_inv)
        omega_u = omega_u + phase
        omega_v = omega_v - phase
    du = u @ omega_u
    dv = v @ omega_v
    if m > k:   # (I - UUᴴ) dA V S⁻¹
        du = du + (da @ v - u @ p) * s_inv[..., None, :]
    if n > k:   # (I - VVᴴ) dAᴴ U S⁻¹
        dv = dv + (adjoint(da) @ u - v @ adjoint(p)) * s_inv[..., None, :]
    return du, real(diag_part(p)), adjoint(dv)


def _extend_columns(q, dq1, k):
    """The tangent of an orthonormal ``q`` whose first ``k`` columns move by ``dq1`` and whose
    other columns Q₂ (an arbitrary basis of the rest) move by the least rotation that keeps
    them orthogonal to the first: dQ₂ = -Q₁ dQ₁ᴴ Q₂."""
    q1, q2 = q[..., :, :k], q[..., :, k:]
    return np.concatenate([dq1, -(q1 @ (adjoint(dq1) @ q2))], axis=-1)


def _thin_cotangents(u, vh, u_ct, vh_ct, k):
    """The adjoint of ``_extend_columns`` for U and for V = Vhᴴ: cotangents of the full
    factors as cotangents of their first ``k`` columns (rows of Vh)."""
    if not is_zero(u_ct):
        u1, u2 = u[..., :, :k], u[..., :, k:]
        u_ct = u_ct[..., :, :k] - u2 @ (adjoint(u_ct[..., :, k:]) @ u1)
    if not is_zero(vh_ct):
        vh1, vh2 = vh[..., :k, :], vh[..., k:, :]
        vh_ct = vh_ct[..., :k, :] - (vh1 @ adjoint(vh_ct[..., k:, :])) @ vh2
    return u_ct, vh_ct


def _svd_cotangent(u, s, vh, u_ct, s_ct, vh_ct, hermitian):
    """Ā for A = U diag(s) Vᴴ (thin), the adjoint of ``_svd_tangents``."""
    m, n = shape_of(u)[-2], shape_of(vh)[-1]
    inner = ZERO if is_zero(s_ct) else diag_embed(s_ct)
    outside = phase = ZERO
    if is_zero(u_ct) and is_zero(vh_ct):   # singular values only: Ā = U diag(s̄) Vᴴ
        grad = u @ inner @ vh
        return hermitian_part(grad) if hermitian else grad
    s_inv = safe_reciprocal(s)
    gaps = inverse_gaps(s * s)
    if not is_zero(u_ct):
        ju = adjoint(u) @ u_ct
        inner = inner + (gaps * (ju - adjoint(ju))) * s[..., None, :]
        if is_complex(u):
            phase = phase + np.imag(diag_part(ju))
        if m > n:  # the part of Ū outside span(U): (I - UUᴴ) Ū S⁻¹ Vᴴ
            outside = outside + ((u_ct - u @ ju) * s_inv[..., None, :]) @ vh
    if not is_zero(vh_ct):
        v_ct_h = vh_ct  # V̄ = Vh̄ᴴ, since Vh = Vᴴ
        jv = vh @ adjoint(v_ct_h)
        inner = inner + s[..., :, None] * (gaps * (jv - adjoint(jv)))
        if is_complex(vh):
            phase = phase - np.imag(diag_part(jv))
        if n > m:  # U S⁻¹ V̄ᴴ (I - VVᴴ)
            outside = outside + (u * s_inv[..., None, :]) @ (v_ct_h - adjoint(jv) @ vh)
    if not is_zero(phase):
        # The phase of each singular pair is a gauge; split it evenly between U and V.
        inner = inner + diag_embed(0.5j * phase * s_inv)
    grad = u @ inner @ vh + outside
    return hermitian_part(grad) if hermitian else grad


# --- qr ---------------------------------------------------------------------------------------

def _qr_unsupported(mode, m, n):
    """The error for the calls of qr that have no derivative rule, or None."""
    if mode in ("reduced", "complete", "r") and m >= n and (mode != "complete" or m == n):
        return None
    return DifferentiationError(
        f"implementation(np.linalg.qr, a)(a, mode={mode!r}) of a {m}x{n} matrix has no derivative rule: "
        "wengert differentiates mode='reduced' (or 'r') for m >= n, and 'complete' "
        "for square matrices.")


@reverse(np.linalg.qr)
def _qr(needs, a, mode="reduced"):
    out = implementation(np.linalg.qr, a)(a, mode=mode)
    error = _qr_unsupported(mode, *shape_of(a)[-2:])
    if error is not None:
        def qr_unsupported_pullback(ct):
            raise error

        return out, qr_unsupported_pullback

    def qr_pullback(cts):
        if mode == "r":
            q, r = implementation(np.linalg.qr, a)(a)
            q_ct, r_ct = ZERO, cts
        else:
            (q, r), (q_ct, r_ct) = out, cts
        return per_argument(needs, fit(a, _qr_cotangent(q, r, q_ct, r_ct)))

    return out, qr_pullback


@forward(np.linalg.qr)
def _qr_forward(tangents, a, mode="reduced"):
    error = _qr_unsupported(mode, *shape_of(a)[-2:])
    if error is not None:
        raise error
    if mode == "r":   # the same factorization as the reduced one, without forming Q
        q, r = implementation(np.linalg.qr, a)(a)
        return r, _qr_tangents(q, r, to_dense(tangents[0]))[1]
    out = implementation(np.linalg.qr, a)(a, mode=mode)
    return out, _qr_tangents(*out, to_dense(tangents[0]))


def _qr_tangents(q, r, da):
    """(dQ, dR) for A = QR (m >= n, R with a real diagonal, as LAPACK makes it).

    With C = Qᴴ dA R⁻¹ = Qᴴ dQ + dR R⁻¹: Ω = QᴴdQ is anti-Hermitian with the strict lower
    triangle of C (and the imaginary part of its diagonal), dR R⁻¹ = C - Ω is upper
    triangular, and dQ = Q Ω + (I - QQᴴ) dA R⁻¹ = dA R⁻¹ - Q (C - Ω).
    """
    da_r_inv = adjoint(solve_triangular(adjoint(r), adjoint(da), True))   # dA R⁻¹
    c = adjoint(q) @ da_r_inv
    n = shape_of(r)[-1]
    lower = c * tri_like(n, r, k=-1, dtype=real_dtype(r))
    omega = lower - adjoint(lower)
    if is_complex(c):
        omega = omega + diag_embed(1j * np.imag(diag_part(c)))
    upper = c - omega
    return da_r_inv - q @ upper, upper @ r


def _qr_cotangent(q, r, q_ct, r_ct):
    """Ā = (Q̄ + Q N) R⁻ᴴ, N the Hermitian matrix with the upper triangle of R̄Rᴴ - QᴴQ̄:
    the adjoint of ``_qr_tangents``."""
    m_ = ZERO if is_zero(r_ct) else r_ct @ adjoint(r)
    if not is_zero(q_ct):
        m_ = m_ - adjoint(q) @ q_ct
    n = shape_of(r)[-1]
    strict_upper = tri_like(n, r, k=-1, dtype=real_dtype(r)).T
    upper = m_ * strict_upper
    diagonal = real(diag_part(m_))
    b = q @ (upper + adjoint(upper) + diag_embed(diagonal))
    if not is_zero(q_ct):
        b = b + q_ct
    # B R⁻ᴴ = (R⁻¹ Bᴴ)ᴴ
    return adjoint(solve_triangular(r, adjoint(b), False))
