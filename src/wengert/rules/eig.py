"""Rules for np.linalg.eig and eigvals: the eigendecomposition A = V diag(λ) V⁻¹ of a general
square matrix (real or complex; a real matrix may have complex eigenpairs).

With P = V⁻¹ dA V, the eigenvalues move by dλ = diag P and the eigenvectors by V (F ∘ P),
F_ij = 1/(λ_j - λ_i) with a zero diagonal. NumPy's eigenvectors have unit length and a phase
(a sign, for real ones) that LAPACK picks; the derivative keeps the length (it removes
Re(vᵢᴴ dvᵢ) along each vᵢ) and leaves the phase alone, so only phase-blind functions of the
eigenvectors (|V|², V diag(f(λ)) V⁻¹, ...) have derivatives that match finite differences,
as in JAX and PyTorch. Degenerate eigenvalues drop their couplings (see ``inverse_gaps``).
The reverse rules are the adjoints of the forward ones; the tests check it.
"""
import numpy as np

from ._helpers import ZERO, forward, is_zero, reverse, to_dense
from ._matrices import adjoint, diag_embed, diag_part, fit, inverse_gaps, per_argument, real


def _inverse_times(v, x):
    """V⁻¹ X, as a solve."""
    return np.linalg.solve(v, x)


def _keep_lengths(v, dv):
    """dV without the part that would change the unit columns' lengths: dvᵢ - vᵢ Re(vᵢᴴ dvᵢ)."""
    return dv - v * real(np.sum(np.conjugate(v) * dv, axis=-2))[..., None, :]


@reverse(np.linalg.eig)
def _eig(needs, a):
    out = np.linalg.eig(a)

    def eig_pullback(cts):
        w_ct, v_ct = cts
        w, v = out
        inner = ZERO if is_zero(w_ct) else diag_embed(w_ct)
        if not is_zero(v_ct):
            # The adjoint of dV = V (F ∘ P) followed by _keep_lengths.
            vh_v_ct = adjoint(v) @ v_ct
            lengths = (adjoint(v) @ v) * real(diag_part(vh_v_ct))[..., None, :]
            inner = inner + np.conjugate(inverse_gaps(w)) * (vh_v_ct - lengths)
        if is_zero(inner):
            return per_argument(needs)
        # V⁻ᴴ inner Vᴴ, the adjoint of dA ↦ V⁻¹ dA V.
        return per_argument(needs, fit(a, _inverse_times(adjoint(v), inner @ adjoint(v))))

    return out, eig_pullback


@forward(np.linalg.eig)
def _eig_forward(tangents, a):
    out = np.linalg.eig(a)
    w, v = out
    p = _inverse_times(v, to_dense(tangents[0]) @ v)
    return out, (diag_part(p), _keep_lengths(v, v @ (inverse_gaps(w) * p)))


@reverse(np.linalg.eigvals)
def _eigvals(needs, a):
    # eig's eigenvalues, so that they pair with its eigenvectors (eigvals alone may differ in
    # the last bits: LAPACK takes another path when it computes no vectors).
    w, v = np.linalg.eig(a)

    def eigvals_pullback(ct):
        g = _inverse_times(adjoint(v), diag_embed(ct) @ adjoint(v))
        return per_argument(needs, fit(a, g))

    return w, eigvals_pullback


@forward(np.linalg.eigvals)
def _eigvals_forward(tangents, a):
    w, v = np.linalg.eig(a)
    return w, diag_part(_inverse_times(v, to_dense(tangents[0]) @ v))
