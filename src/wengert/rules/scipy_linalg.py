"""Rules for scipy.linalg, loaded when the program imports scipy.linalg (see _reach): solve,
inv, det and the Cholesky family here; triangular solves and LU factors in
scipy_linalg_triangular; matrix functions and decompositions in scipy_linalg_more.

Every traced call arrives through a door on ``scipy.linalg``; its rule computes the value with
the same public function and writes each derivative with NumPy operations and scipy.linalg
doors, so every rule nests to any order. Rules never pass ``overwrite_*`` on: the values they
keep must survive the call.

Derivatives are those of what SciPy computes, checked against finite differences of the
functions themselves. Routines that read part of a matrix — one triangle (cholesky, cho_factor,
solve_triangular, solve/inv with ``assume_a`` 'sym', 'her' or 'pos'), the diagonal or three
diagonals, a unit diagonal they assume — have a derivative that is zero on the entries they do
not read; Hermitian ones also ignore the imaginary part of the diagonal, as LAPACK does (see
rules/eigh.py). ``assume_a=None`` and 'gen' are the general derivative: where SciPy detects a
structure it reads the whole matrix to do so, and the solution is A⁻¹b all the same.
"""
import numpy as np
import scipy.linalg

from ._helpers import ZERO, conj, forward, is_zero, reverse, shape_of, to_dense
from ._matrices import (adjoint, dense_tangents, eye, fit, matrix_scalar, per_argument,
                        remember_triangular)
from ._reach import reach
from .decompositions import _cholesky_cotangent, _cholesky_tangent
from .eigh import hermitian_seen_adjoint, triangle_seen, triangle_seen_adjoint
from .linalg import _trace_of_solve
from .scipy_linalg_triangular import _columns, _keep, _solved_matrix_cotangent, _uncolumn

_solve = reach(scipy.linalg, "solve")
_inv = reach(scipy.linalg, "inv")
_det = reach(scipy.linalg, "det")
_cholesky = reach(scipy.linalg, "cholesky")
_cho_factor = reach(scipy.linalg, "cho_factor")
_cho_solve = reach(scipy.linalg, "cho_solve")


# --- the structures solve and inv read (assume_a) ----------------------------------------------
# Each maps assume_a to what the solver works with: the matrix it sees is a linear function of
# the input (``_seen``), so tangents go through it and gradients through its adjoint.

_STRUCTURES = {None: "general", "gen": "general", "general": "general", "banded": "general",
               "sym": "symmetric", "symmetric": "symmetric", "her": "hermitian",
               "hermitian": "hermitian", "pos": "hermitian", "positive definite": "hermitian",
               "diagonal": "diagonal", "tridiagonal": "tridiagonal",
               "upper triangular": "upper triangular", "lower triangular": "lower triangular"}


def _seen(m, structure, lower):
    """The matrix a solver of this structure works with, from the entries of ``m`` it reads."""
    if structure == "general":
        return m
    if structure == "hermitian":
        return triangle_seen(m, lower)
    if structure == "symmetric":   # complex symmetric: mirrored without conjugation
        strict = _keep(m, lower, -1)
        return strict + np.swapaxes(strict, -1, -2) + m * eye(shape_of(m)[-1], m)
    return _entries_read(m, structure)


def _seen_adjoint(g, structure, lower):
    """The adjoint of ``_seen``: a gradient of the matrix seen as one of the input."""
    if structure == "general":
        return g
    if structure == "hermitian":
        return triangle_seen_adjoint(g, lower)
    if structure == "symmetric":
        return _keep(g + np.swapaxes(g, -1, -2), lower, -1) + g * eye(shape_of(g)[-1], g)
    return _entries_read(g, structure)


def _entries_read(m, structure):
    """``m`` on the entries a banded or triangular structure reads, zero elsewhere."""
    if structure == "diagonal":
        return m * eye(shape_of(m)[-1], m)
    if structure == "tridiagonal":
        return np.triu(np.tril(m, 1), -1)
    return _keep(m, structure == "lower triangular")


def _transpose_if(m, transposed):
    return np.swapaxes(m, -1, -2) if transposed else m


# --- solve, inv, det -------------------------------------------------------------------------

@reverse(_solve)
def _solve_rule(needs, a, b, lower=False, overwrite_a=False, overwrite_b=False,
                check_finite=True, assume_a=None, transposed=False):
    options = dict(lower=lower, check_finite=check_finite, assume_a=assume_a,
                   transposed=transposed)
    x = scipy.linalg.solve(a, b, **options)
    structure = _STRUCTURES[assume_a]
    vector = len(shape_of(b)) == 1

    def solve_pullback(ct):
        # M x = b with M = op(seen(A)): b̄ = M⁻ᴴ x̄, Ā = seen*(op(-b̄ xᴴ)).
        b_ct = _solve_adjoint(a, _columns(ct, vector), structure, options)
        a_ct = ZERO
        if needs[0]:
            m_ct = _transpose_if(_solved_matrix_cotangent(b_ct, x, vector), transposed)
            a_ct = fit(a, _seen_adjoint(m_ct, structure, lower))
        return per_argument(needs, a_ct, fit(b, _uncolumn(b_ct, vector)))

    return x, solve_pullback


@forward(_solve)
def _solve_forward(tangents, a, b, lower=False, overwrite_a=False, overwrite_b=False,
                   check_finite=True, assume_a=None, transposed=False):
    options = dict(lower=lower, check_finite=check_finite, assume_a=assume_a,
                   transposed=transposed)
    x = scipy.linalg.solve(a, b, **options)
    vector = len(shape_of(b)) == 1
    da, db = dense_tangents(tangents, 2)
    rhs = ZERO if is_zero(db) else _columns(db, vector)
    if not is_zero(da):   # dx = M⁻¹ (db - dM x)
        dm = _transpose_if(_seen(da, _STRUCTURES[assume_a], lower), transposed)
        rhs = rhs - dm @ _columns(x, vector)
    return x, _uncolumn(scipy.linalg.solve(a, rhs, **options), vector)


def _solve_adjoint(a, r, structure, options):
    """M⁻ᴴ r for the matrix M that ``scipy.linalg.solve(a, ·, **options)`` inverts."""
    if structure == "hermitian":   # M = Mᴴ (transposed= is for real input only)
        return scipy.linalg.solve(a, r, **options)
    if structure in ("symmetric", "diagonal"):   # Mᴴ = conj(M)
        return conj(scipy.linalg.solve(a, conj(r), **options))
    # Mᴴ = conj(Mᵀ): Mᵀ is A itself where M was Aᵀ, else Aᵀ with its triangles swapped.
    if options["transposed"]:
        return conj(scipy.linalg.solve(a, conj(r), **{**options, "transposed": False}))
    swapped = {"upper triangular": "lower triangular",
               "lower triangular": "upper triangular"}.get(structure, options["assume_a"])
    return conj(scipy.linalg.solve(np.swapaxes(a, -1, -2), conj(r),
                                   **{**options, "assume_a": swapped}))


@reverse(_inv)
def _inv_rule(needs, a, overwrite_a=False, check_finite=True, **structure_options):
    out = scipy.linalg.inv(a, check_finite=check_finite, **structure_options)
    structure, lower = _inverse_structure(structure_options)
    inverse, kept = _inverse_and_kept(out, structure)

    def inv_pullback(ct):   # X = seen(A)⁻¹: Ā = seen*(-Xᴴ X̄ Xᴴ)
        inverse_h = adjoint(inverse)
        grad = _seen_adjoint(-(inverse_h @ ct @ inverse_h), structure, lower)
        return per_argument(needs, fit(a, grad if kept is None else grad + ct * kept))

    return out, inv_pullback


@forward(_inv)
def _inv_forward(tangents, a, overwrite_a=False, check_finite=True, **structure_options):
    out = scipy.linalg.inv(a, check_finite=check_finite, **structure_options)
    structure, lower = _inverse_structure(structure_options)
    inverse, kept = _inverse_and_kept(out, structure)
    (da,) = dense_tangents(tangents, 1)
    d_inverse = -(inverse @ _seen(da, structure, lower) @ inverse)
    return out, d_inverse if kept is None else d_inverse + da * kept


def _inverse_structure(options):
    # assume_a= and lower= are keyword-only, and new in SciPy 1.17: passed on only if given.
    return _STRUCTURES[options.get("assume_a")], options.get("lower", False)


def _keeps_off_diagonal():
    """Whether inv(a, assume_a='diagonal') returns a's off-diagonal entries as they are
    (SciPy 1.17 inverts the diagonal of a copy of a): asked once, of a constant."""
    try:
        return scipy.linalg.inv(np.array([[1.0, 2.0], [0.0, 1.0]]),
                                assume_a="diagonal")[0, 1] == 2.0
    except TypeError:   # no assume_a: a SciPy before 1.17
        return False


_KEEPS_OFF_DIAGONAL = _keeps_off_diagonal()


def _inverse_and_kept(out, structure):
    """The inverse the derivative uses, and the mask of the output's entries that are the
    input's own (or None)."""
    if structure != "diagonal":
        return out, None
    diagonal = eye(shape_of(out)[-1], out)
    return out * diagonal, (1 - diagonal) if _KEEPS_OFF_DIAGONAL else None


@reverse(_det)
def _det_rule(needs, a, overwrite_a=False, check_finite=True):
    det = scipy.linalg.det(a, check_finite=check_finite)

    def det_pullback(ct):   # d det = det · tr(A⁻¹ dA); a singular A raises LinAlgError
        grad = matrix_scalar(ct * conj(det)) * adjoint(scipy.linalg.inv(a))
        return per_argument(needs, fit(a, grad))

    return det, det_pullback


@forward(_det)
def _det_forward(tangents, a, overwrite_a=False, check_finite=True):
    det = scipy.linalg.det(a, check_finite=check_finite)
    (da,) = dense_tangents(tangents, 1)
    return det, det * _trace_of_solve(a, da)


# --- cholesky, cho_factor, cho_solve ---------------------------------------------------------
# potrf reads the ``lower`` (default: upper) triangle and the real part of the diagonal: the
# Hermitian derivative of np.linalg.cholesky's rules, through ``triangle_seen``.

def _cholesky_pullback(a, factor, lower):
    def cholesky_pullback(ct):
        l, l_ct = (factor, ct) if lower else (adjoint(factor), adjoint(ct))   # A = Uᴴ U
        return fit(a, hermitian_seen_adjoint(_cholesky_cotangent(l, l_ct), lower))
    return cholesky_pullback


def _cholesky_tangent_of(a_tangent, factor, lower):
    s = triangle_seen(to_dense(a_tangent), lower)
    if lower:
        return _cholesky_tangent(factor, s)
    return adjoint(_cholesky_tangent(adjoint(factor), s))


@reverse(_cholesky)
def _cholesky_rule(needs, a, lower=False, overwrite_a=False, check_finite=True):
    factor = scipy.linalg.cholesky(a, lower=lower, check_finite=check_finite)
    remember_triangular(factor, lower)   # np.linalg.solve(factor, ...) may use it
    pullback = _cholesky_pullback(a, factor, lower)
    return factor, lambda ct: per_argument(needs, pullback(ct))


@forward(_cholesky)
def _cholesky_forward(tangents, a, lower=False, overwrite_a=False, check_finite=True):
    factor = scipy.linalg.cholesky(a, lower=lower, check_finite=check_finite)
    return factor, _cholesky_tangent_of(tangents[0], factor, lower)


# cho_factor leaves the other triangle of c as it found it (the input's entries, which SciPy
# calls arbitrary): the derivative is the factor's, zero there, and cotangents there are
# ignored, as cho_solve ignores that triangle.

@reverse(_cho_factor)
def _cho_factor_rule(needs, a, lower=False, overwrite_a=False, check_finite=True):
    out = scipy.linalg.cho_factor(a, lower=lower, check_finite=check_finite)
    pullback = _cholesky_pullback(a, _keep(out[0], lower), lower)

    def cho_factor_pullback(cts):
        return per_argument(needs) if is_zero(cts[0]) else per_argument(needs, pullback(cts[0]))

    return out, cho_factor_pullback


@forward(_cho_factor)
def _cho_factor_forward(tangents, a, lower=False, overwrite_a=False, check_finite=True):
    out = scipy.linalg.cho_factor(a, lower=lower, check_finite=check_finite)
    factor = _keep(out[0], lower)
    return out, (_cholesky_tangent_of(tangents[0], factor, lower), ZERO)


def _flag(lower):
    """cho_factor's ``lower``: a bool, or one per matrix of a stack (all equal)."""
    return bool(np.ravel(lower)[0])


@reverse(_cho_solve)
def _cho_solve_rule(needs, c_and_lower, b, overwrite_b=False, check_finite=True):
    c, flag = c_and_lower
    lower = _flag(flag)
    x = scipy.linalg.cho_solve((c, flag), b, check_finite=check_finite)
    vector = len(shape_of(b)) == 1

    def cho_solve_pullback(ct):
        # A = F Fᴴ (lower F) or Fᴴ F (upper F) is Hermitian: b̄ = A⁻¹ x̄, Ā = -b̄ xᴴ.
        b_ct = scipy.linalg.cho_solve((c, flag), _columns(ct, vector),
                                      check_finite=check_finite)
        c_ct = ZERO
        if needs[0]:
            a_ct = _solved_matrix_cotangent(b_ct, x, vector)
            both = a_ct + adjoint(a_ct)
            factor = _keep(c, lower)
            c_ct = (fit(c, _keep(both @ factor if lower else factor @ both, lower)), ZERO)
        return per_argument(needs, c_ct, fit(b, _uncolumn(b_ct, vector)))

    return x, cho_solve_pullback


@forward(_cho_solve)
def _cho_solve_forward(tangents, c_and_lower, b, overwrite_b=False, check_finite=True):
    c, flag = c_and_lower
    lower = _flag(flag)
    x = scipy.linalg.cho_solve((c, flag), b, check_finite=check_finite)
    vector = len(shape_of(b)) == 1
    dc = ZERO if is_zero(tangents[0]) else to_dense(tangents[0][0])
    db = to_dense(tangents[1])
    rhs = ZERO if is_zero(db) else _columns(db, vector)
    if not is_zero(dc):   # dx = A⁻¹ (db - dA x), dA = dF Fᴴ + F dFᴴ (or its upper twin)
        factor, d_factor = _keep(c, lower), _keep(dc, lower)
        half = d_factor @ adjoint(factor) if lower else adjoint(factor) @ d_factor
        rhs = rhs - (half + adjoint(half)) @ _columns(x, vector)
    solved = scipy.linalg.cho_solve((c, flag), rhs, check_finite=check_finite)
    return x, _uncolumn(solved, vector)


from . import scipy_linalg_more  # noqa: E402,F401  (matrix functions and decompositions)
