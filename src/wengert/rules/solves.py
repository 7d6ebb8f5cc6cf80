"""Rules for solving linear systems: np.linalg.solve, and the blocked ``solve_triangular``
primitive that the factorization rules (rules/decompositions.py) use.

Both accept stacks of matrices (leading axes) and complex input, and have both modes, each
forward rule under its reverse rule. The pullback of a solve is one more solve, with Aᴴ: the
rules keep what they can of the first one (SciPy's LU factors, or a Cholesky factor's
triangle) so that the second costs O(n²) per column. Rule bodies are NumPy code on possibly
traced values, so every rule nests (see docs/linalg.md).
"""
import numpy as np

from ..arraytypes import implementation
from ._helpers import (ZERO, forward, is_complex, is_zero, primitive, real_dtype, reverse,
                       shape_of, tri_like)
from ._matrices import adjoint, dense_tangents, fit, per_argument, scipy_linalg, triangle_of

# NumPy 2 treats solve's b as a vector only when it is 1-D; NumPy 1 when it has one axis
# fewer than a.
_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


# --- triangular solves -------------------------------------------------------------------------
# NumPy has no triangular solve and SciPy is optional. A blocked substitution does it with
# matrix products (about n²k flops, as fast as LAPACK's trsm) instead of an LU of the whole
# triangular matrix; only the small diagonal blocks are inverted.

_BLOCK = 64


@primitive
def solve_triangular(t, b, lower):
    """``T⁻¹ B`` for a stack of triangular ``T`` (only the ``lower`` / upper triangle is
    read) and a stack of matrices ``B``."""
    special = implementation(solve_triangular, t)
    if special is not solve_triangular:   # an array library's own (Dask's)
        return special(t, b, lower)
    batch = np.broadcast_shapes(np.shape(t)[:-2], np.shape(b)[:-2])
    x = np.broadcast_to(b, batch + np.shape(b)[-2:]).astype(np.result_type(t, b), order="C")
    _substitute(t, x, lower)
    return x


def _substitute(t, x, lower):
    """Overwrite ``x`` with ``T⁻¹ x``. Only ever sees concrete arrays: solve_triangular is a
    primitive, so traced calls go through its rule."""
    n = t.shape[-1]
    if n <= _BLOCK:
        triangle = tri_like(n, t, dtype=bool)
        x[...] = np.linalg.inv(np.where(triangle if lower else triangle.T, t, 0)) @ x
        return
    h = n // 2
    first, second = (slice(None, h), slice(h, None)) if lower else (slice(h, None),
                                                                      slice(None, h))
    _substitute(t[..., first, first], x[..., first, :], lower)
    x[..., second, :] -= t[..., second, first] @ x[..., first, :]
    _substitute(t[..., second, second], x[..., second, :], lower)


def _triangle(t, lower):
    """The mask of the triangle of ``t`` that solve_triangular reads."""
    triangle = tri_like(shape_of(t)[-1], t, dtype=real_dtype(t))
    return triangle if lower else triangle.T


@reverse(solve_triangular)
def _solve_triangular(needs, t, b, lower):
    x = solve_triangular(t, b, lower)

    def solve_triangular_pullback(ct):
        b_ct = solve_triangular(adjoint(t), ct, not lower)
        t_ct = ZERO
        if needs[0]:
            t_ct = fit(t, -(b_ct @ adjoint(x)) * _triangle(t, lower))
        return per_argument(needs, t_ct, fit(b, b_ct))

    return x, solve_triangular_pullback


@forward(solve_triangular)
def _solve_triangular_forward(tangents, t, b, lower):
    x = solve_triangular(t, b, lower)
    dt, db = dense_tangents(tangents, 2)
    if not is_zero(dt):   # dX = T⁻¹(dB - dT X), dT restricted to the triangle read
        db = db - (dt * _triangle(t, lower)) @ x
    return x, solve_triangular(t, db, lower)


# --- solve ---------------------------------------------------------------------------------------

def _b_is_vector(a, b):
    b_ndim = len(shape_of(b))
    return b_ndim == 1 if _NUMPY2 else b_ndim == len(shape_of(a)) - 1


def _factored(a, b):
    """A solver for A x = r and Aᴴ x = r that factors A once, or None.

    np.linalg.solve factors A on every call, so its pullback would pay for a second LU. Where
    SciPy is installed and A and b are one concrete matrix and vector (or matrix), the rule
    keeps SciPy's LU factors instead: the pullback's solve then costs O(n²) per column. A
    Cholesky factor (known by identity, see ``_matrices.remember_triangular``) needs no LU
    at all: triangular solves, O(n²) per column both ways.
    """
    lapack = scipy_linalg()
    if lapack is None or type(a) is not np.ndarray or type(b) is not np.ndarray:
        return None
    if a.ndim != 2 or b.ndim not in (1, 2) or not a.shape[0] == a.shape[1] == b.shape[0]:
        return None
    adjoint_trans = 2 if is_complex(a) else 1
    lower = triangle_of(a)
    if lower is None:
        factors = lapack.lu_factor(a, check_finite=False)

    def solve(rhs, with_adjoint=False):
        if not isinstance(rhs, np.ndarray) or rhs.ndim > 2:   # traced (nested) or a stack
            return _solved(adjoint(a) if with_adjoint else a, rhs)
        trans = adjoint_trans if with_adjoint else 0
        if lower is not None:   # a Cholesky factor: triangular, O(n²) per column
            return lapack.solve_triangular(a, rhs, trans=trans, lower=lower,
                                           check_finite=False)
        return lapack.lu_solve(factors, rhs, trans=trans, check_finite=False)

    return solve


def _solved(a, b):
    """``np.linalg.solve(a, b)``, by the library of ``b`` where it has its own way (Dask
    solves with a NumPy matrix only once it is one of its arrays)."""
    return implementation(np.linalg.solve, b)(a, b)


@reverse(np.linalg.solve)
def _solve(needs, a, b):
    solve = _factored(a, b)
    x = _solved(a, b) if solve is None else solve(b)

    def solve_pullback(ct):
        # x = A⁻¹b: one solve with Aᴴ gives b̄ = A⁻ᴴ x̄, and then Ā = -b̄ xᴴ.
        vector = _b_is_vector(a, b)
        ct_m = ct[..., None] if vector else ct
        x_m = x[..., None] if vector else x
        if solve is None:
            b_ct = _solved(adjoint(a), ct_m)
        else:
            b_ct = solve(ct_m, with_adjoint=True)
        a_ct = fit(a, -(b_ct @ adjoint(x_m))) if needs[0] else ZERO
        if needs[1]:
            b_ct = fit(b, b_ct[..., 0] if vector else b_ct)
        return per_argument(needs, a_ct, b_ct)

    return x, solve_pullback


@forward(np.linalg.solve)
def _solve_forward(tangents, a, b):
    solve = _factored(a, b)
    x = _solved(a, b) if solve is None else solve(b)
    da, db = dense_tangents(tangents, 2)
    # dx = A⁻¹(db - dA x): one more solve with A. A vector b and x become columns, so that
    # a right-hand side that broadcasts to a stack is still read as vectors.
    vector = _b_is_vector(a, b)
    rhs = ZERO if is_zero(db) else (db[..., None] if vector else db)
    if not is_zero(da):
        rhs = rhs - da @ (x[..., None] if vector else x)
    dx = _solved(a, rhs) if solve is None else solve(rhs)
    return x, dx[..., 0] if vector else dx
