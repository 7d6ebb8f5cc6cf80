"""Small matrix helpers shared by the np.linalg rule modules (linalg, decompositions, norms).

All of them are NumPy code that works on stacks of matrices (leading axes) and on traced
values, so the rules built from them nest.
"""
import weakref

import numpy as np

from ._helpers import (ZERO, conj, eye_like, is_complex, is_zero, real_dtype, safe_divide,
                       shape_of, to_dense, unbroadcast)
from .products import adjoint

__all__ = ["adjoint", "real", "eye", "diag_embed", "diag_part",
           "hermitian_part", "matrix_scalar", "dense_tangents", "per_argument", "fit",
           "inverse_gaps", "safe_reciprocal", "unit", "singular_value_tangents"]

# Gaps between eigenvalues (singular values) below this fraction of their total size count
# as degenerate: their coupling terms would be 1/gap, pure rounding noise.
DEGENERACY = 16


def real(x):
    """The real part, free (no array operation) for real ``x``."""
    return np.real(x) if is_complex(x) else x


def eye(n, like):
    return eye_like(n, like, dtype=real_dtype(like))


def diag_embed(v):
    """A stack of diagonal matrices with diagonals ``v`` (..., n)."""
    return v[..., :, None] * eye(shape_of(v)[-1], v)


def diag_part(m):
    """The diagonals (..., n) of a stack of square matrices, as a product with I so it nests."""
    return np.sum(m * eye(shape_of(m)[-1], m), axis=-1)


def hermitian_part(m):
    """(M + Mᴴ)/2: also the tangent that cholesky and eigh see, as they read one triangle."""
    return (m + adjoint(m)) / 2


def matrix_scalar(c):
    """A stack of scalars (...) shaped to scale a stack of matrices (..., 1, 1)."""
    return np.reshape(c, shape_of(c) + (1, 1))


def dense_tangents(tangents, count):
    """The first ``count`` tangents of a call as arrays (or ZERO): a matrix function mixes
    every entry, so a sparse ``Indexed`` tangent would not stay sparse."""
    return [to_dense(t) for t in tangents[:count]]


def per_argument(needs, *grads):
    """One cotangent per positional argument: ``grads`` for the first ones, ZERO after."""
    grads = grads + (ZERO,) * (len(needs) - len(grads))
    return tuple(g if need else ZERO for g, need in zip(grads, needs))


def fit(a, g):
    """Cotangent ``g`` made real where ``a`` is real (and summed over broadcast axes)."""
    return ZERO if is_zero(g) else unbroadcast(a, g)


def inverse_gaps(values):
    """F[..., i, j] = 1 / (values_j - values_i), 0 on the diagonal and for degenerate pairs."""
    gaps = values[..., None, :] - values[..., :, None]
    scale = np.sum(np.abs(values), axis=-1)[..., None, None]
    tiny = np.abs(gaps) <= DEGENERACY * np.finfo(real_dtype(values)).eps * scale
    return np.where(tiny, 0, 1 / np.where(tiny, 1, gaps))


def safe_reciprocal(s):
    """1/s for singular values, 0 where s is (numerically) zero."""
    scale = np.sum(s, axis=-1)[..., None]
    tiny = s <= DEGENERACY * np.finfo(real_dtype(s)).eps * scale
    return np.where(tiny, 0, 1 / np.where(tiny, 1, s))


def unit(x):
    """x/|x| (the sign for real x), 0 at 0: the derivative of |x|."""
    return safe_divide(x, np.abs(x)) if is_complex(x) else np.sign(x)


def singular_value_tangents(u, vh, da):
    """ds = Re diag(Uᴴ dA V) for thin factors ``u``, ``vh`` (simple singular values)."""
    return real(np.sum(conj(u) * (da @ adjoint(vh)), axis=-2))


# --- SciPy's LAPACK/BLAS where it is installed ------------------------------------------------
# NumPy exposes no triangular product or reusable LU factors. Where SciPy is installed and the
# operands are concrete matrices (not traced values of an outer level, not stacks), the rules
# use them for the O(n³) steps; elsewhere they fall back to plain NumPy, with equal results.

_SCIPY_LINALG = False


def scipy_linalg():
    """scipy.linalg if it is installed (imported on first use), else None."""
    global _SCIPY_LINALG
    if _SCIPY_LINALG is False:
        try:
            import scipy.linalg as module
        except ImportError:
            module = None
        _SCIPY_LINALG = module
    return _SCIPY_LINALG


# Factors that the cholesky rules returned, by identity: they are triangular by construction,
# so a later np.linalg.solve on the same array object may use a triangular solve instead of
# an LU factorization. Weak references: a factor is forgotten when it is freed. Only the
# rules see these arrays (user code holds tracers of them), so nothing can write into them.
_TRIANGULAR = weakref.WeakValueDictionary()
_LOWER = {}


def remember_triangular(factor, lower):
    if type(factor) is np.ndarray and factor.ndim == 2:
        key = id(factor)
        _TRIANGULAR[key] = factor
        _LOWER[key] = lower
        weakref.finalize(factor, _LOWER.pop, key, None)


def triangle_of(a):
    """True (lower) or False (upper) for a factor remembered above, else None."""
    key = id(a)
    return _LOWER.get(key) if _TRIANGULAR.get(key) is a else None


def triangular_times(t, m, lower, adjoint_t=False):
    """``op(T) @ M`` for a triangular ``T`` (op: identity, or the conjugate transpose):
    BLAS trmm reads one triangle and takes half the flops of a full product."""
    lapack = scipy_linalg()
    if (lapack is None or type(t) is not np.ndarray or not isinstance(m, np.ndarray)
            or t.ndim != 2 or m.ndim != 2 or t.dtype != m.dtype or t.dtype.kind not in "fc"):
        return (adjoint(t) if adjoint_t else t) @ m
    trmm = lapack.blas.get_blas_funcs("trmm", (t, m))
    return trmm(1.0, t, m, lower=lower, trans_a=(2 if t.dtype.kind == "c" else 1) if adjoint_t
                else 0)
