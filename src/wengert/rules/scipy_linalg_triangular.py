"""Rules for scipy.linalg's triangular solves and LU factors (imported by scipy_linalg):
solve_triangular, lu_factor, lu_solve, and LAPACK's conventions that the other solves share
(trans codes, right-hand sides that are vectors).

solve_triangular reads one triangle (without the diagonal when ``unit_diagonal``); its
derivative is zero on the rest. lu_factor packs A = P L U into one matrix: L's strict lower
triangle (its diagonal is 1) and U's upper triangle, with P as LAPACK's row interchanges
``piv``. The pivots are piecewise constant and carry no derivative; for fixed pivots, with
X = L⁻¹ Pᵀ dA U⁻¹,

    dL = L · strictly_lower(X),      dU = upper(X) · U,

and the packed tangent is their sum. lu_solve is differentiated through the packed matrix (all
of it is read) and the right-hand side, so a loss may come from a solve with factors that
were themselves differentiated. Square matrices only: lu_solve takes nothing else.
"""
import numpy as np
import scipy.linalg

from ..errors import DifferentiationError
from ._helpers import ZERO, arange_like, conj, forward, is_zero, reverse, shape_of, to_dense
from ._matrices import adjoint, dense_tangents, eye, fit, per_argument
from ._reach import reach

_solve_triangular = reach(scipy.linalg, "solve_triangular")
_lu_factor = reach(scipy.linalg, "lu_factor")
_lu_solve = reach(scipy.linalg, "lu_solve")


# --- shapes and parts of matrices ----------------------------------------------------------

def _columns(x, vector):
    """A right-hand side (or solution) as a stack of matrices: a 1-D b is one column."""
    return x[..., None] if vector else x


def _uncolumn(x, vector):
    return x[..., 0] if vector else x


def _solved_matrix_cotangent(b_ct, x, vector):
    """M̄ = -b̄ xᴴ for M x = b, given b̄ = M⁻ᴴ x̄ (``vector``: b and x are 1-D)."""
    return -(b_ct @ adjoint(_columns(x, vector)))


def _keep(m, lower, k=0):
    """The lower (else upper) triangle of ``m`` from diagonal ``k`` inwards (-1: strict),
    zero elsewhere."""
    return np.tril(m, k) if lower else np.triu(m, -k)


def _op(m, trans):
    """LAPACK's op(M) for trans 0 (M), 1 (Mᵀ) or 2 (Mᴴ). Also its own adjoint."""
    if trans == 0:
        return m
    return np.swapaxes(conj(m) if trans == 2 else m, -1, -2)


_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2, "n": 0, "t": 1, "c": 2}


def _adjoint_solve(solve, r, trans):
    """op(T)⁻ᴴ r, given ``solve(rhs, trans)`` = op(T)⁻¹ rhs for SciPy's trans codes."""
    if trans == 1:   # op(T)ᴴ = conj(T): solve with T on the conjugates
        return conj(solve(conj(r), 0))
    return solve(r, 2 - trans)


# --- solve_triangular ------------------------------------------------------------------------

@reverse(_solve_triangular)
def _solve_triangular_rule(needs, a, b, trans=0, lower=False, unit_diagonal=False,
                           overwrite_b=False, check_finite=True):
    trans = _TRANS.get(trans, trans)
    solve = _triangular_solver(a, lower, unit_diagonal, check_finite)
    x = solve(b, trans)
    vector = len(shape_of(b)) == 1

    def solve_triangular_pullback(ct):
        # op(T) x = b: b̄ = op(T)⁻ᴴ x̄, and T̄ = op(-b̄ xᴴ) on the entries read.
        b_ct = _adjoint_solve(solve, _columns(ct, vector), trans)
        a_ct = ZERO
        if needs[0]:
            t_ct = _op(_solved_matrix_cotangent(b_ct, x, vector), trans)
            a_ct = fit(a, _keep(t_ct, lower, -1 if unit_diagonal else 0))
        return per_argument(needs, a_ct, fit(b, _uncolumn(b_ct, vector)))

    return x, solve_triangular_pullback


@forward(_solve_triangular)
def _solve_triangular_forward(tangents, a, b, trans=0, lower=False, unit_diagonal=False,
                              overwrite_b=False, check_finite=True):
    trans = _TRANS.get(trans, trans)
    solve = _triangular_solver(a, lower, unit_diagonal, check_finite)
    x = solve(b, trans)
    vector = len(shape_of(b)) == 1
    da, db = dense_tangents(tangents, 2)
    rhs = ZERO if is_zero(db) else _columns(db, vector)
    if not is_zero(da):   # dx = op(T)⁻¹ (db - op(dT) x), dT on the entries read
        dt = _keep(da, lower, -1 if unit_diagonal else 0)
        rhs = rhs - _op(dt, trans) @ _columns(x, vector)
    return x, _uncolumn(solve(rhs, trans), vector)


def _triangular_solver(a, lower, unit_diagonal, check_finite):
    def solve(rhs, trans):
        return scipy.linalg.solve_triangular(a, rhs, trans=trans, lower=lower,
                                             unit_diagonal=unit_diagonal,
                                             check_finite=check_finite)
    return solve


# --- the packed factors ----------------------------------------------------------------------

def _row_order(piv):
    """The rows of A in the order the factors have them, A[order] = L U, from LAPACK's
    interchanges (row i swapped with row piv[i], for i = 0, 1, ...). Pivots are plain
    integers, never traced."""
    n = shape_of(piv)[-1]
    swaps = np.reshape(piv, (-1, n))
    order = np.tile(arange_like(n, piv), (len(swaps), 1))
    stack = arange_like(len(swaps), piv)
    for i in range(n):
        j = swaps[:, i]
        order[stack, i], order[stack, j] = order[stack, j], order[stack, i]
    return np.reshape(order, shape_of(piv))


def _rows(m, order):
    """m[..., order, :] for a stack of orders."""
    return np.take_along_axis(m, order[..., :, None], axis=-2)


def _factors(lu):
    """(L, U) unpacked: L with its unit diagonal."""
    return _keep(lu, True, -1) + eye(shape_of(lu)[-1], lu), _keep(lu, False)


def _l_solve(lu, m, trans=0):
    """op(L)⁻¹ M for the unit lower triangle L of the packed matrix."""
    return scipy.linalg.solve_triangular(lu, m, trans=trans, lower=True, unit_diagonal=True)


def _right_u_solve(m, lu, trans=0):
    """M op(U)⁻¹ for the upper triangle U of the packed matrix, trans 0 or 2 (Uᴴ)."""
    if trans == 2:   # M U⁻ᴴ = (U⁻¹ Mᴴ)ᴴ
        return adjoint(scipy.linalg.solve_triangular(lu, adjoint(m), lower=False))
    transposed = np.swapaxes(m, -1, -2)   # M U⁻¹ = (U⁻ᵀ Mᵀ)ᵀ
    return np.swapaxes(scipy.linalg.solve_triangular(lu, transposed, trans=1, lower=False),
                       -1, -2)


def _packed_tangent(lu, d_permuted):
    """The tangent of the packed factors for a tangent Pᵀ dA of the permuted matrix."""
    l, u = _factors(lu)
    x = _right_u_solve(_l_solve(lu, d_permuted), lu)                 # L⁻¹ Pᵀ dA U⁻¹
    return l @ _keep(x, True, -1) + _keep(x, False) @ u


def _permuted_cotangent(lu, lu_ct):
    """Pᵀ Ā for a cotangent of the packed factors: the adjoint of ``_packed_tangent``."""
    l, u = _factors(lu)
    x_ct = _keep(adjoint(l) @ lu_ct, True, -1) + _keep(lu_ct @ adjoint(u), False)
    return _right_u_solve(_l_solve(lu, x_ct, trans=2), lu, trans=2)   # L⁻ᴴ X̄ U⁻ᴴ


def _square_only(a):
    m, n = shape_of(a)[-2:]
    if m != n:
        raise DifferentiationError(
            f"scipy.linalg.lu_factor of a {m}x{n} matrix has no derivative rule: wengert "
            "differentiates square matrices (those lu_solve takes). Use scipy.linalg.lu, or "
            "wg.stop_gradient on the input if no derivative is needed.")


# --- lu_factor -------------------------------------------------------------------------------

@reverse(_lu_factor)
def _lu_factor_rule(needs, a, overwrite_a=False, check_finite=True):
    _square_only(a)
    lu, piv = scipy.linalg.lu_factor(a, check_finite=check_finite)
    order = _row_order(piv)

    def lu_factor_pullback(cts):
        if is_zero(cts[0]):
            return per_argument(needs)
        permuted = _permuted_cotangent(lu, cts[0])                     # Ā[order] = Pᵀ Ā
        return per_argument(needs, fit(a, _rows(permuted, np.argsort(order, axis=-1))))

    return (lu, piv), lu_factor_pullback


@forward(_lu_factor)
def _lu_factor_forward(tangents, a, overwrite_a=False, check_finite=True):
    _square_only(a)
    lu, piv = scipy.linalg.lu_factor(a, check_finite=check_finite)
    d_permuted = _rows(to_dense(tangents[0]), _row_order(piv))
    return (lu, piv), (_packed_tangent(lu, d_permuted), ZERO)


# --- lu_solve --------------------------------------------------------------------------------

@reverse(_lu_solve)
def _lu_solve_rule(needs, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    lu, piv = lu_and_piv
    trans = _TRANS.get(trans, trans)
    solve = _lu_solver(lu, piv, check_finite)
    x = solve(b, trans)
    vector = len(shape_of(b)) == 1

    def lu_solve_pullback(ct):
        # op(A) x = b: b̄ = op(A)⁻ᴴ x̄, Ā = op(-b̄ xᴴ); A = P L U gives the packed cotangent
        # strictly_lower(Pᵀ Ā Uᴴ) + upper(Lᴴ Pᵀ Ā).
        b_ct = _adjoint_solve(solve, _columns(ct, vector), trans)
        lu_ct = ZERO
        if needs[0]:
            permuted = _rows(_op(_solved_matrix_cotangent(b_ct, x, vector), trans),
                             _row_order(piv))
            l, u = _factors(lu)
            lu_ct = (_keep(permuted @ adjoint(u), True, -1)
                     + _keep(adjoint(l) @ permuted, False))
            lu_ct = (fit(lu, lu_ct), ZERO)
        return per_argument(needs, lu_ct, fit(b, _uncolumn(b_ct, vector)))

    return x, lu_solve_pullback


@forward(_lu_solve)
def _lu_solve_forward(tangents, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    lu, piv = lu_and_piv
    trans = _TRANS.get(trans, trans)
    solve = _lu_solver(lu, piv, check_finite)
    x = solve(b, trans)
    vector = len(shape_of(b)) == 1
    d_lu = ZERO if is_zero(tangents[0]) else to_dense(tangents[0][0])
    db = to_dense(tangents[1])
    rhs = ZERO if is_zero(db) else _columns(db, vector)
    if not is_zero(d_lu):   # dx = op(A)⁻¹ (db - op(dA) x), dA = P (dL U + L dU)
        l, u = _factors(lu)
        d_permuted = _keep(d_lu, True, -1) @ u + l @ _keep(d_lu, False)
        da = _rows(d_permuted, np.argsort(_row_order(piv), axis=-1))
        rhs = rhs - _op(da, trans) @ _columns(x, vector)
    return x, _uncolumn(solve(rhs, trans), vector)


def _lu_solver(lu, piv, check_finite):
    def solve(rhs, trans):
        return scipy.linalg.lu_solve((lu, piv), rhs, trans=trans, check_finite=check_finite)
    return solve
