"""Rules for np.linalg.eigh and eigvalsh: the eigendecomposition of a Hermitian matrix.

LAPACK's Hermitian routines (heevd here; potrf, hesv, hetri behind SciPy's cholesky, solve and
inv) read one triangle of their input and the real part of its diagonal. The matrix they see
is a linear function of the input, ``triangle_seen``, so the derivative of what they compute
is the Hermitian derivative composed with that map: forward rules push the tangent through
it, reverse rules pull the Hermitian gradient back through its adjoint, which is zero on the
triangle that is not read. Finite differences of the function itself agree, on any input
(not only Hermitian ones); for a matrix built Hermitian, ``(A + Aᴴ)/2`` or ``X Xᴴ``, the
chain rule through it gives the same gradient as the Hermitian convention of JAX and PyTorch.

Eigenvectors have a gauge (a sign, a phase for complex input): both modes fix Vᴴ dV with a
zero diagonal. Degenerate eigenvalues drop their couplings (see ``inverse_gaps``), which is
exact for losses invariant within the degenerate subspace.
"""
import numpy as np

from ._helpers import ZERO, forward, is_complex, is_zero, reverse, shape_of, to_dense
from ._matrices import (adjoint, diag_embed, diag_part, eye, fit, inverse_gaps, per_argument,
                        real, singular_value_tangents)


# --- the matrix a one-triangle routine sees -------------------------------------------------

def triangle_seen(m, lower):
    """The Hermitian matrix seen by a routine that reads the ``lower`` (else upper) triangle
    of ``m``: that triangle mirrored, the diagonal's real part. Also maps tangents."""
    strict = _triangle_of(m, lower, -1)
    if not is_complex(m):
        return _triangle_of(m, lower, 0) + np.swapaxes(strict, -1, -2)
    return strict + adjoint(strict) + real(m) * eye(shape_of(m)[-1], m)


def triangle_seen_adjoint(g, lower):
    """The adjoint of ``triangle_seen``: a gradient of the matrix seen as one of the input,
    zero on the triangle the routine does not read."""
    if not is_complex(g):   # the triangle read, plus the mirror of the other one
        return (_triangle_of(g, lower, 0)
                + np.swapaxes(_triangle_of(g, not lower, -1), -1, -2))
    return _triangle_of(g + adjoint(g), lower, -1) + real(g) * eye(shape_of(g)[-1], g)


def hermitian_seen_adjoint(h, lower):
    """``triangle_seen_adjoint`` of a Hermitian ``h`` (a Hermitian gradient), without the
    transposes: the strict triangle read twice, the diagonal once."""
    return _triangle_of(h, lower, 0) + _triangle_of(h, lower, -1)


def _triangle_of(m, lower, k):
    """The lower (else upper) triangle of ``m`` from diagonal ``k`` inwards; -1: strict."""
    return np.tril(m, k) if lower else np.triu(m, -k)


# --- the Hermitian derivatives -------------------------------------------------------------

def eigh_cotangent(w, v, w_ct, v_ct):
    """G with dL = Re⟨G, dS⟩ for every Hermitian change dS of the matrix decomposed:
    V (diag(w̄) + F ∘ Vᴴ V̄) Vᴴ, F dropping degenerate pairs (ZERO for zero cotangents)."""
    inner = ZERO if is_zero(w_ct) else diag_embed(w_ct)
    if not is_zero(v_ct):
        inner = inner + inverse_gaps(w) * (adjoint(v) @ v_ct)
    return inner if is_zero(inner) else v @ inner @ adjoint(v)


def eigh_tangents(w, v, s):
    """(dw, dV) along a Hermitian change S: with P = Vᴴ S V, dw = diag P and dV = V (F ∘ P),
    F_ij = 1/(w_j - w_i) with a zero diagonal."""
    p = adjoint(v) @ s @ v
    return real(diag_part(p)), v @ (inverse_gaps(w) * p)


def eigenvalue_cotangent(v, w_ct):
    """V diag(w̄) Vᴴ: eigenvalues only, whatever their multiplicities."""
    return (v * w_ct[..., None, :]) @ adjoint(v)


def eigenvalue_tangents(v, s):
    """dwᵢ = vᵢᴴ S vᵢ along a Hermitian change S: the adjoint of ``eigenvalue_cotangent``."""
    return singular_value_tangents(v, adjoint(v), s)


# --- np.linalg ------------------------------------------------------------------------------

def _lower(args, kwargs):
    """Whether np.linalg.eigh(a, UPLO) / eigvalsh read the lower triangle (the default)."""
    return (args[0] if args else kwargs.get("UPLO", "L")).upper() == "L"


@reverse(np.linalg.eigh)
def _eigh(needs, a, *args, **kwargs):
    out = np.linalg.eigh(a, *args, **kwargs)

    def eigh_pullback(cts):
        grad = eigh_cotangent(*out, *cts)
        if is_zero(grad):
            return per_argument(needs)
        return per_argument(needs, fit(a, triangle_seen_adjoint(grad, _lower(args, kwargs))))

    return out, eigh_pullback


@forward(np.linalg.eigh)
def _eigh_forward(tangents, a, *args, **kwargs):
    out = np.linalg.eigh(a, *args, **kwargs)
    return out, eigh_tangents(*out, triangle_seen(to_dense(tangents[0]), _lower(args, kwargs)))


@reverse(np.linalg.eigvalsh)
def _eigvalsh(needs, a, *args, **kwargs):
    w, v = np.linalg.eigh(a, *args, **kwargs)

    def eigvalsh_pullback(ct):
        grad = triangle_seen_adjoint(eigenvalue_cotangent(v, ct), _lower(args, kwargs))
        return per_argument(needs, fit(a, grad))

    return w, eigvalsh_pullback


@forward(np.linalg.eigvalsh)
def _eigvalsh_forward(tangents, a, *args, **kwargs):
    w, v = np.linalg.eigh(a, *args, **kwargs)
    s = triangle_seen(to_dense(tangents[0]), _lower(args, kwargs))
    return w, eigenvalue_tangents(v, s)
