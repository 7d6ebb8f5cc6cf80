"""Derivative checks of rules/linalg.py and rules/solves.py (inv, solve, det, slogdet,
matrix_power, pinv, lstsq, solve_triangular, the array-API aliases) in both modes, driven by
one spec table.

Inputs are built well conditioned (random + n·I for inv and solve); see linalg_inputs.py.
"""
import numpy as np
import pytest

import wengert as wg
from wengert.registry import forward_rules
from wengert.rules import solves
from wengert.tangents import OneHot
from wengert.testing import check_grads

from linalg_inputs import (BOTH, spec_table_tests, Case, assert_adjoint, batched_vector_rhs,
                           check_forward_over_forward, column_rhs, general, hermitian, matrix_rhs,
                           random, spd, tall, vector_rhs, wide)

CASES = [
    Case("inv", np.linalg.inv, (general,), order=2),
    Case("solve vector b", np.linalg.solve, (general, vector_rhs), order=2),
    Case("solve matrix b", np.linalg.solve, (general, matrix_rhs), order=2),
    Case("solve stacked vector b", lambda a, b: np.linalg.solve(a, b[..., None])[..., 0],
         (general, batched_vector_rhs)),
    Case("det", np.linalg.det, (general,), order=2),
    Case("slogdet", lambda a: np.linalg.slogdet(a).logabsdet, (general,), order=2),
    Case("slogdet sign and log", lambda a: tuple(np.linalg.slogdet(a)), (general,)),
    Case("lstsq x", lambda a, b: np.linalg.lstsq(a, b)[0], (tall(random, 2), tall(matrix_rhs, 2)),
         batched=False),
    Case("lstsq x vector b", lambda a, b: np.linalg.lstsq(a, b)[0],
         (tall(random, 1), tall(column_rhs, 1)), batched=False),
    Case("lstsq residuals and s", lambda a, b: _lstsq_outputs(a, b),
         (tall(random, 2), tall(matrix_rhs, 2)), batched=False),
    Case("lstsq residuals vector b", lambda a, b: np.linalg.lstsq(a, b)[1],
         (tall(random, 2), tall(column_rhs, 2)), batched=False),
    Case("lstsq underdetermined", lambda a, b: np.linalg.lstsq(a, b)[0],
         (wide(random, 2), matrix_rhs), batched=False),
    Case("pinv", np.linalg.pinv, (general,), order=2),
    Case("pinv tall", np.linalg.pinv, (tall(random, 2),)),
    Case("pinv wide", np.linalg.pinv, (wide(random, 1),)),
    Case("pinv hermitian", lambda a: np.linalg.pinv(hermitian(a), hermitian=True), (spd,)),
]
for _n in (0, 1, 2, 3, 5, -1, -2):
    CASES.append(Case(f"matrix_power {_n}", lambda a, n=_n: np.linalg.matrix_power(a, n),
                      (general,), order=2 if _n in (3, -2) else 1))


def _lstsq_outputs(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b)
    assert rank == a.shape[-1]
    return residuals, s


PARAMS, test_derivatives, test_second_order, test_forward_over_forward = (
    spec_table_tests(CASES))


# --- forward mode beyond the values ---------------------------------------------------------------

def test_one_hot_tangent_gives_one_column_of_solve(rng):
    a = general((3, 3), np.float64, rng)
    b = rng.standard_normal(3)
    x = np.linalg.solve(a, b)
    # ∂x/∂A_ij = -A⁻¹ e_i x_j, and ∂x/∂b_i = A⁻¹ e_i.
    da = wg.partial(np.linalg.solve, a, b, argnum=0, index=(1, 2))
    np.testing.assert_allclose(da, -np.linalg.inv(a)[:, 1] * x[2], rtol=1e-12)
    db = wg.partial(np.linalg.solve, a, b, argnum=1, index=0)
    np.testing.assert_allclose(db, np.linalg.inv(a)[:, 0], rtol=1e-12)


def test_forward_rules_densify_one_hot_tangents(rng):
    a = general((3, 3), np.float64, rng)
    rule = forward_rules.generic[np.linalg.inv].impl
    y, dy = rule([OneHot((0, 1), (3, 3))], a)
    inverse = np.linalg.inv(a)
    assert isinstance(dy, np.ndarray)   # made dense: a matrix function mixes every entry
    np.testing.assert_allclose(dy, -np.outer(inverse[:, 0], inverse[1]), rtol=1e-12)


@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
def test_modes_are_adjoint(dtype, rng):
    a = general((2, 3, 3), dtype, rng)
    for f in (np.linalg.inv, np.linalg.det, lambda a: tuple(np.linalg.slogdet(a)),
              np.linalg.pinv, lambda a: np.linalg.matrix_power(a, -3),
              lambda a: np.linalg.solve(a, a[..., :2] ** 2), lambda a: np.linalg.solve(a, a[0, 0])):
        assert_adjoint(f, a, rng)
    assert_adjoint(lambda a: np.linalg.pinv(a, hermitian=True), spd((3, 3), dtype, rng), rng)


def test_solve_with_one_argument_constant(rng):
    a = general((3, 3), np.float64, rng)
    b = rng.standard_normal(3)
    check_grads(lambda b: np.linalg.solve(a, b), b, modes=BOTH)
    check_grads(lambda a: np.linalg.solve(a, b), a, modes=BOTH)


def test_solve_broadcasts_b_over_a_stack(rng):
    a = general((2, 3, 3), np.float64, rng)
    b = rng.standard_normal((3, 2))
    check_grads(np.linalg.solve, a, b, modes=BOTH)
    _, dx = wg.jvp(np.linalg.solve, (a, b), (wg.Zero(), np.ones((3, 2))))
    assert dx.shape == (2, 3, 2)


@pytest.mark.parametrize("lower", (True, False))
def test_blocked_triangular_solve(lower, rng, monkeypatch):
    t = np.tril(general((2, 5, 5), np.float64, rng))
    t = t if lower else np.swapaxes(t, -1, -2)
    b = rng.standard_normal((5, 3))
    monkeypatch.setattr(solves, "_BLOCK", 2)   # make small inputs take the blocked path
    np.testing.assert_allclose(solves.solve_triangular(t, b, lower), np.linalg.solve(t, b),
                               rtol=1e-12)
    # Its rules: only the triangle that is read gets a cotangent, or moves the result.
    f = lambda t, b: solves.solve_triangular(t, b, lower)   # noqa: E731
    check_grads(f, t, b, modes=BOTH, order=2, atol=1e-4, rtol=1e-4)
    check_forward_over_forward(f, t, b)
    (g,) = wg.gradient(lambda t: np.sum(solves.solve_triangular(t, b, lower)), t)
    unread = np.triu(np.ones((5, 5)), 1) if lower else np.tril(np.ones((5, 5)), -1)
    np.testing.assert_array_equal(g * unread, 0)
    unread = np.broadcast_to(unread, t.shape).copy()
    _, dx = wg.jvp(lambda t: solves.solve_triangular(t, b, lower), (t,), (unread,))
    np.testing.assert_array_equal(dx, 0)


def test_real_slogdet_sign_has_no_tangent(rng):
    a = general((3, 3), np.float64, rng)
    (g,) = wg.gradient(lambda a: np.linalg.slogdet(a).sign * 5.0, a)
    np.testing.assert_array_equal(g, 0)
    _, (dsign, dlog) = wg.jvp(lambda a: tuple(np.linalg.slogdet(a)), (a,), (np.ones((3, 3)),))
    assert dsign == 0
    np.testing.assert_allclose(dlog, np.sum(np.linalg.inv(a)), rtol=1e-12)   # tr(A⁻¹ 1)
    (g,) = wg.gradient(lambda a: np.linalg.slogdet(a)[0] * np.exp(np.linalg.slogdet(a)[1]), a)
    np.testing.assert_allclose(g, np.linalg.det(a) * np.linalg.inv(a).T)


def test_matrix_power_zero_has_zero_tangent(rng):
    a = general((3, 3), np.float64, rng)
    _, dy = wg.jvp(lambda a: np.linalg.matrix_power(a, 0), (a,), (np.ones((3, 3)),))
    np.testing.assert_array_equal(dy, 0)


def test_lstsq_gradient_is_the_normal_equations_gradient(rng):
    a = rng.standard_normal((5, 2))
    b = rng.standard_normal(5)

    def total(a, b):
        x, _, rank, _ = np.linalg.lstsq(a, b)
        assert type(rank) is not type(x)   # the rank is a plain integer, not traced
        return np.sum(x) * rank

    x_only, _ = wg.gradient(total, a, b)
    normal = lambda a: 2 * np.sum(np.linalg.solve(a.T @ a, a.T @ b))   # noqa: E731
    np.testing.assert_allclose(x_only, wg.gradient(normal, a)[0], atol=1e-10)
    t = rng.standard_normal((5, 2))
    np.testing.assert_allclose(wg.jvp(lambda a: total(a, b), (a,), (t,))[1],
                               wg.jvp(normal, (a,), (t,))[1], rtol=1e-10)


ALIASES = [
    ("matmul", lambda a, b: np.linalg.matmul(a, b), ((2, 3, 3), (3, 2))),
    ("outer", lambda a, b: np.linalg.outer(a, b), ((3,), (2,))),
    ("tensordot", lambda a, b: np.linalg.tensordot(a, b, axes=1), ((2, 3), (3, 2))),
    ("matrix_transpose", lambda a: np.linalg.matrix_transpose(a) * np.arange(3.0), ((2, 3, 2),)),
    ("trace", lambda a: np.linalg.trace(a, offset=1), ((2, 3, 3),)),
    ("diagonal", lambda a: np.linalg.diagonal(a), ((2, 3, 4),)),
    ("vecdot", lambda a, b: np.linalg.vecdot(a, b), ((2, 3), (3,))),
    ("cross", lambda a, b: np.linalg.cross(a, b), ((2, 3), (3,))),
]


@pytest.mark.parametrize("mode", BOTH)
@pytest.mark.parametrize("name,fn,shapes", ALIASES, ids=[a[0] for a in ALIASES])
def test_array_api_aliases_use_the_numpy_rule(name, fn, shapes, mode, rng):
    if not hasattr(np.linalg, name):
        pytest.skip(f"np.linalg.{name} needs NumPy 2")
    args = [random(shape, np.complex128, rng) for shape in shapes]
    try:
        check_grads(fn, *args, modes=(mode,))
    except wg.DifferentiationError as error:   # the plain NumPy function has no rule yet
        assert f"no {mode}-mode rule" in str(error) and "np.linalg" not in str(error)
        pytest.xfail(str(error))


def test_matrix_rank_is_not_differentiable(rng):
    (g,) = wg.gradient(lambda a: np.linalg.matrix_rank(a) * np.sum(a), np.eye(2))
    np.testing.assert_allclose(g, 2 * np.ones((2, 2)))
    _, dy = wg.jvp(lambda a: np.linalg.matrix_rank(a) * np.sum(a), (np.eye(2),),
                   (np.ones((2, 2)),))
    assert dy == 8


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("rhs_shape", [(4,), (4, 2)])
def test_solve_with_a_cholesky_factor_uses_its_triangle(upper, rhs_shape, monkeypatch):
    # The factor returned by the cholesky rule is solved against by triangular solves (both
    # ways); the derivatives must equal the general path's, also through the transposed factor
    # (a different array object, which takes the LU path).
    rng = np.random.default_rng(7)
    a = spd((4, 4), np.float64, rng)
    y = rng.standard_normal(rhs_shape)

    def f(a, y, fast=True):
        factor = np.linalg.cholesky(hermitian(a), upper=upper)
        if not fast:
            factor = np.copy(factor)   # another array object: the general (LU) path
        z = np.linalg.solve(factor, y)
        return np.sum(z * z) + np.sum(np.linalg.solve(factor.T, np.sin(z)))

    check_grads(f, a, y, modes=BOTH)
    scipy_linalg = pytest.importorskip("scipy.linalg")
    with monkeypatch.context() as patch:   # the factor itself is never LU-factored
        lu_calls = []
        real_lu_factor = scipy_linalg.lu_factor
        patch.setattr(scipy_linalg, "lu_factor",
                      lambda *a, **k: lu_calls.append(1) or real_lu_factor(*a, **k))
        wg.gradient(lambda a, y: np.sum(np.linalg.solve(
            np.linalg.cholesky(hermitian(a), upper=upper), y) ** 2), a, y)
        assert lu_calls == []
    general = lambda a, y: f(a, y, fast=False)
    for g, expected in zip(wg.gradient(f, a, y), wg.gradient(general, a, y)):
        np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)
