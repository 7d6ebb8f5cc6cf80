"""Gradient checks of the np.linalg rules, driven by one spec table.

Each case is a function of matrices built to be well conditioned (SPD for cholesky and eigh,
separated spectra for eigh and svd, random + n·I for inv and solve). Outputs with a phase or
sign gauge (eigenvectors, singular vectors) are checked through gauge-invariant functions.
cholesky and eigh see a Hermitian input, since their gradient is the Hermitian one.
"""
import dataclasses
import zlib

import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_grads

REVERSE = ("reverse",)
SHAPES = {"2x2": (2, 2), "3x3": (3, 3), "4x4": (4, 4), "batched": (2, 3, 3)}
ALL = (np.float64, np.float32, np.complex128)


# --- argument makers: (shape, dtype, rng) -> array ------------------------------------------------

def random(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def general(shape, dtype, rng):
    """Random plus n·I: comfortably invertible."""
    n = shape[-1]
    return (random(shape, dtype, rng) + n * np.eye(n)).astype(dtype)


def spd(shape, dtype, rng):
    n = shape[-1]
    x = random(shape, dtype, rng)
    return (x @ adjoint(x) / n + np.eye(n)).astype(dtype)


def unitary(shape, dtype, rng):
    q, r = np.linalg.qr(random(shape, dtype, rng))
    return q


def separated(shape, dtype, rng):
    """Hermitian with eigenvalues 1, 2.5, 4, ... (well separated)."""
    q = unitary(shape, dtype, rng)
    eigenvalues = 1 + 1.5 * np.arange(shape[-1])
    return ((q * eigenvalues) @ adjoint(q)).astype(dtype)


def distinct_singular(shape, dtype, rng):
    """U diag(s) Vᴴ with singular values 1, 2, 3, ... (any m x n)."""
    m, n = shape[-2:]
    k = min(m, n)
    u = unitary(shape[:-2] + (m, k), dtype, rng)
    v = unitary(shape[:-2] + (n, k), dtype, rng)
    return ((u * (1.0 + np.arange(k))) @ adjoint(v)).astype(dtype)


def tall(maker, rows=1):
    """The same maker for a matrix with ``rows`` more rows than columns."""
    return lambda shape, dtype, rng: maker(shape[:-2] + (shape[-2] + rows, shape[-1]), dtype, rng)


def wide(maker, cols=1):
    return lambda shape, dtype, rng: maker(shape[:-2] + (shape[-2], shape[-1] + cols), dtype, rng)


def vector_rhs(shape, dtype, rng):
    return random(shape[-1:], dtype, rng)


def column_rhs(shape, dtype, rng):
    """A vector with one entry per row."""
    return random(shape[-2:-1], dtype, rng)


def batched_vector_rhs(shape, dtype, rng):
    return random(shape[:-1], dtype, rng)


def matrix_rhs(shape, dtype, rng):
    return random(shape[:-1] + (2,), dtype, rng)


def adjoint(a):
    return np.conj(np.swapaxes(a, -1, -2))


def hermitian(a):
    return (a + adjoint(a)) / 2


def weighted_abs2(x):
    """A gauge-invariant, phase-blind function of singular/eigen vectors: |x|² weighted."""
    weights = np.arange(1, x.shape[-1] + 1)
    return np.real(x * np.conj(x)) * weights


# --- the spec table ----------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    name: str
    fn: object
    makers: tuple
    dtypes: tuple = ALL
    order: int = 1
    batched: bool = True


CASES = [
    Case("inv", np.linalg.inv, (general,), order=2),
    Case("solve vector b", np.linalg.solve, (general, vector_rhs), order=2),
    Case("solve matrix b", np.linalg.solve, (general, matrix_rhs), order=2),
    Case("solve stacked vector b", lambda a, b: np.linalg.solve(a, b[..., None])[..., 0],
         (general, batched_vector_rhs)),
    Case("det", np.linalg.det, (general,), order=2),
    Case("slogdet", lambda a: np.linalg.slogdet(a).logabsdet, (general,), order=2),
    Case("slogdet sign and log", lambda a: tuple(np.linalg.slogdet(a)), (general,)),
    Case("cholesky", lambda a: np.linalg.cholesky(hermitian(a)), (spd,), order=2),
    Case("cholesky upper", lambda a: np.linalg.cholesky(hermitian(a), upper=True), (spd,)),
    Case("eigh values", lambda a: np.linalg.eigh(hermitian(a)).eigenvalues, (separated,),
         order=2),
    Case("eigh vectors", lambda a: weighted_abs2(np.linalg.eigh(hermitian(a))[1]),
         (separated,)),
    Case("eigh upper", lambda a: _eigh_projector(hermitian(a), "U"), (separated,)),
    Case("eigh both", lambda a: _eigh_projector(hermitian(a), "L"), (separated,), order=2),
    Case("svd values", lambda a: np.linalg.svd(a, compute_uv=False), (distinct_singular,)),
    Case("svd values tall", lambda a: np.linalg.svd(a, compute_uv=False),
         (tall(distinct_singular),)),
    Case("svd reconstruction", lambda a: _svd_product(np.linalg.svd(a)),
         (distinct_singular,)),
    Case("svd hermitian", lambda a: _svd_product(np.linalg.svd(hermitian(a), hermitian=True)),
         (separated,)),
    Case("svd |U|² |V|² tall", lambda a: _svd_abs2(np.linalg.svd(a, full_matrices=False)),
         (tall(distinct_singular, 2),)),
    Case("svd |U|² |V|² wide", lambda a: _svd_abs2(np.linalg.svd(a, full_matrices=False)),
         (wide(distinct_singular, 2),)),
    Case("svd leading pair wide", lambda a: _leading_pair(np.linalg.svd(a, full_matrices=False)),
         (wide(distinct_singular),)),
    Case("qr", lambda a: tuple(np.linalg.qr(a)), (general,)),
    Case("qr tall", lambda a: tuple(np.linalg.qr(a)), (tall(random, 2),)),
    Case("qr r only", lambda a: np.linalg.qr(a, mode="r"), (tall(random),)),
    Case("lstsq x", lambda a, b: np.linalg.lstsq(a, b)[0], (tall(random, 2), tall(matrix_rhs, 2)),
         batched=False),
    Case("lstsq x vector b", lambda a, b: np.linalg.lstsq(a, b)[0],
         (tall(random, 1), tall(column_rhs, 1)), batched=False),
    Case("lstsq residuals and s", lambda a, b: _lstsq_outputs(a, b),
         (tall(random, 2), tall(matrix_rhs, 2)), batched=False),
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

VECTOR_ORDS = (None, 2, 1, np.inf, -np.inf, 3, 0.5, -1.5)
MATRIX_ORDS = ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf)
for _ord in VECTOR_ORDS:
    CASES.append(Case(f"norm vector ord={_ord}", lambda x, o=_ord: np.linalg.norm(x, o, axis=-1),
                      (random,)))
    CASES.append(Case(f"norm 1-D ord={_ord}", lambda x, o=_ord: np.linalg.norm(x, o),
                      (vector_rhs,)))
for _ord in MATRIX_ORDS:
    CASES.append(Case(f"norm matrix ord={_ord}",
                      lambda x, o=_ord: np.linalg.norm(x, o, axis=(-2, -1)), (tall(random),)))
    CASES.append(Case(f"norm matrix axes (2, 0) keepdims ord={_ord}",
                      lambda x, o=_ord: np.linalg.norm(x[:, None, :], o, (2, 0), keepdims=True),
                      (tall(random),), batched=False))
CASES += [
    Case("norm flat", np.linalg.norm, (random,)),
    Case("norm flat keepdims", lambda x: np.linalg.norm(x, keepdims=True), (random,)),
    Case("norm axis 0 keepdims", lambda x: np.linalg.norm(x, 3, axis=0, keepdims=True),
         (random,)),
    Case("norm 2 order 2", lambda x: np.linalg.norm(x, axis=-1), (random,), order=2),
]


def _eigh_projector(a, uplo):
    w, v = np.linalg.eigh(a, UPLO=uplo)
    return (v * np.sin(w)[..., None, :]) @ adjoint(v)


def _svd_product(result):
    u, s, vh = result
    return (u * np.exp(s)[..., None, :]) @ vh


def _svd_abs2(result):
    return result.S, weighted_abs2(result.U), weighted_abs2(np.swapaxes(result.Vh, -1, -2))


def _leading_pair(result):
    return result.U[..., :, :1] @ result.Vh[..., :1, :]


def _lstsq_outputs(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b)
    assert rank == a.shape[-1]
    return residuals, s


PARAMS = [
    pytest.param(case, shape, dtype, id=f"{case.name}-{shape_name}-{np.dtype(dtype).name}")
    for case in CASES
    for shape_name, shape in SHAPES.items()
    if case.batched or len(shape) == 2
    for dtype in case.dtypes
]


@pytest.mark.parametrize("case,shape,dtype", PARAMS)
def test_gradients(case, shape, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{case.name}{shape}".encode()))
    args = [make(shape, dtype, rng) for make in case.makers]
    check_grads(case.fn, *args, modes=REVERSE)


ORDER2 = [p for p in PARAMS if p.values[0].order == 2 and p.values[2] != np.float32]


@pytest.mark.parametrize("case,shape,dtype", ORDER2)
def test_second_order(case, shape, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{case.name}{shape}2".encode()))
    args = [make(shape, dtype, rng) for make in case.makers]
    check_grads(case.fn, *args, modes=REVERSE, order=2, atol=1e-4, rtol=1e-4)


# --- behaviour beyond the derivative values ------------------------------------------------------

def test_results_keep_numpy_namedtuple_types(rng):
    a = spd((3, 3), np.float64, rng)
    seen = {}

    def f(a):
        eig = np.linalg.eigh(a)
        svd = np.linalg.svd(a)
        qr = np.linalg.qr(a)
        slogdet = np.linalg.slogdet(a)
        for name, result in (("eigh", eig), ("svd", svd), ("qr", qr), ("slogdet", slogdet)):
            seen[name] = type(result)
        w, v = eig
        return (np.sum(eig.eigenvalues) + np.sum(svd.S) + np.sum(qr.R * qr.R)
                + slogdet.logabsdet + np.sum(v * v))

    wg.gradient(f, a)
    assert seen["eigh"] is type(np.linalg.eigh(a))
    assert seen["svd"] is type(np.linalg.svd(a))
    assert seen["qr"] is type(np.linalg.qr(a))
    assert seen["slogdet"] is type(np.linalg.slogdet(a))


VECTOR_ORDS_AT_ZERO = (None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1.5)


@pytest.mark.filterwarnings("ignore:divide by zero")  # NumPy's own forward pass, for p < 0
@pytest.mark.parametrize("ord", VECTOR_ORDS_AT_ZERO, ids=str)
@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
def test_vector_norm_at_zero_has_zero_gradient(ord, dtype):
    x = np.zeros(4, dtype)
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, ord), x)
    assert g.dtype == x.dtype
    np.testing.assert_array_equal(g, 0)


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norm_at_zero_has_zero_gradient(ord):
    x = np.zeros((3, 2))
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, ord), x)
    np.testing.assert_array_equal(g, 0)


def test_p_norm_below_one_is_finite_at_a_zero_entry():
    x = np.array([0.0, 2.0, -1.0])
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, 0.5), x)
    assert np.all(np.isfinite(g)) and g[0] == 0


def test_inf_norm_ties_split_evenly():
    x = np.array([3.0, -3.0, 1.0])
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, np.inf), x)
    np.testing.assert_allclose(g, [0.5, -0.5, 0.0])
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, -np.inf), np.array([1.0, -1.0, 2.0]))
    np.testing.assert_allclose(g, [0.5, -0.5, 0.0])


def test_matrix_one_and_inf_norm_ties_split_evenly():
    x = np.array([[1.0, -2.0], [2.0, 1.0]])  # both column sums and both row sums are 3
    (g1,) = wg.gradient(lambda x: np.linalg.norm(x, 1), x)
    (g_inf,) = wg.gradient(lambda x: np.linalg.norm(x, np.inf), x)
    np.testing.assert_allclose(g1, 0.5 * np.sign(x))
    np.testing.assert_allclose(g_inf, 0.5 * np.sign(x))


def test_spectral_norm_tie_splits_evenly():
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, 2), 2 * np.eye(3))
    np.testing.assert_allclose(g, np.eye(3) / 3)


def test_norm_zero_order_has_no_gradient():
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, 0) * 1.0, np.array([1.0, 0.0, -2.0]))
    np.testing.assert_array_equal(g, 0)


def test_eigenvalues_of_repeated_spectrum_differentiate(rng):
    q = unitary((4, 4), np.float64, rng)
    a = (q * np.array([1.0, 1.0, 1.0, 3.0])) @ q.T
    (g,) = wg.gradient(lambda a: np.sum(np.linalg.eigh(a)[0] ** 2), a)
    np.testing.assert_allclose(g, 2 * a, atol=1e-12)   # Σλ² = ‖A‖²_F


def test_invariant_eigenvector_loss_at_repeated_eigenvalues(rng):
    # The projector onto the top two (equal) eigenvalues is smooth; its gradient is exact
    # because couplings inside the degenerate pair are dropped.
    q = unitary((4, 4), np.float64, rng)
    a = (q * np.array([1.0, 2.0, 5.0, 5.0])) @ q.T
    c = rng.standard_normal((4, 4))

    def top_projector(a):
        v = np.linalg.eigh(a)[1][:, 2:]
        return np.sum(c * (v @ v.T))

    (g,) = wg.gradient(top_projector, a)
    # First-order perturbation theory of the projector: only couplings between the top pair
    # and the rest, dP = Σ (rᵀ dA u) / (λ_u - λ_r) (u rᵀ + r uᵀ).
    w, v = np.linalg.eigh(a)
    top, rest = v[:, 2:], v[:, :2]
    sym_c = (c + c.T) / 2
    expected = np.zeros((4, 4))
    for i in range(2):
        for j in range(2):
            u, r = top[:, i], rest[:, j]
            coupling = 2 * (u @ sym_c @ r) / (w[2 + i] - w[j])
            expected += coupling * np.outer(u, r)
    np.testing.assert_allclose(g, (expected + expected.T) / 2, atol=1e-10)
    assert np.all(np.isfinite(g))


def test_noninvariant_eigenvector_loss_at_repeated_eigenvalues_stays_finite():
    (g,) = wg.gradient(lambda a: np.sum(np.linalg.eigh(a)[1] * np.arange(9.0).reshape(3, 3)),
                       np.eye(3))
    assert np.all(np.isfinite(g))


def test_cholesky_gradient_is_hermitian(rng):
    a = spd((4, 4), np.complex128, rng)
    (g,) = wg.gradient(lambda a: np.sum(np.abs(np.linalg.cholesky(a)) ** 2 * np.arange(4)), a)
    np.testing.assert_allclose(g, adjoint(g), atol=1e-12)


def test_cholesky_log_determinant_gradient_is_inverse(rng):
    a = spd((2, 5, 5), np.float64, rng)
    (g,) = wg.gradient(lambda a: 2 * np.sum(np.log(np.diagonal(np.linalg.cholesky(a),
                                                                axis1=-2, axis2=-1))), a)
    np.testing.assert_allclose(g, np.linalg.inv(a), rtol=1e-10)


def test_gaussian_process_gradient_matches_analytic(rng):
    n = 300   # past the triangular solve's block size, so its recursion runs
    x = rng.standard_normal((n, 2))
    k = np.exp(-0.5 * np.sum((x[:, None] - x[None]) ** 2, axis=-1)) + 0.1 * np.eye(n)
    y = rng.standard_normal(n)

    def nll(k):
        factor = np.linalg.cholesky(k)
        alpha = np.linalg.solve(k, y)
        return 0.5 * y @ alpha + np.sum(np.log(np.diagonal(factor)))

    (g,) = wg.gradient(nll, k)
    alpha = np.linalg.solve(k, y)
    np.testing.assert_allclose(g, 0.5 * (np.linalg.inv(k) - np.outer(alpha, alpha)),
                               atol=1e-10)


def test_solve_with_one_argument_constant(rng):
    a = general((3, 3), np.float64, rng)
    b = rng.standard_normal(3)
    check_grads(lambda b: np.linalg.solve(a, b), b, modes=REVERSE)
    check_grads(lambda a: np.linalg.solve(a, b), a, modes=REVERSE)


def test_solve_broadcasts_b_over_a_stack(rng):
    a = general((2, 3, 3), np.float64, rng)
    b = rng.standard_normal((3, 2))
    check_grads(np.linalg.solve, a, b, modes=REVERSE)


@pytest.mark.parametrize("lower", (True, False))
def test_blocked_triangular_solve(lower, rng, monkeypatch):
    from wengert.rules import linalg

    t = np.tril(general((2, 5, 5), np.float64, rng))
    t = t if lower else np.swapaxes(t, -1, -2)
    b = rng.standard_normal((5, 3))
    monkeypatch.setattr(linalg, "_BLOCK", 2)   # make small inputs take the blocked path
    np.testing.assert_allclose(linalg.solve_triangular(t, b, lower), np.linalg.solve(t, b),
                               rtol=1e-12)
    # Its rule: only the triangle that is read gets a cotangent.
    check_grads(lambda t, b: linalg.solve_triangular(t, b, lower), t, b, modes=REVERSE,
                order=2, atol=1e-4, rtol=1e-4)
    (g,) = wg.gradient(lambda t: np.sum(linalg.solve_triangular(t, b, lower)), t)
    unread = np.triu(g, 1) if lower else np.tril(g, -1)
    np.testing.assert_array_equal(unread, 0)


def test_real_slogdet_sign_has_no_tangent(rng):
    a = general((3, 3), np.float64, rng)
    (g,) = wg.gradient(lambda a: np.linalg.slogdet(a).sign * 5.0, a)
    np.testing.assert_array_equal(g, 0)
    (g,) = wg.gradient(lambda a: np.linalg.slogdet(a)[0] * np.exp(np.linalg.slogdet(a)[1]), a)
    np.testing.assert_allclose(g, np.linalg.det(a) * np.linalg.inv(a).T)


def test_svd_full_matrices_non_square(rng):
    a = tall(distinct_singular)((3, 3), np.float64, rng)
    (g,) = wg.gradient(lambda a: np.sum(np.linalg.svd(a).S), a)   # values only: fine
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(g, u @ vh, atol=1e-12)
    with pytest.raises(wg.DifferentiationError, match="full_matrices=False"):
        wg.gradient(lambda a: np.sum(np.linalg.svd(a).U[:, 0] ** 2), a)


def test_qr_unsupported_shape_raises(rng):
    a = rng.standard_normal((2, 3))
    with pytest.raises(wg.DifferentiationError, match="m >= n"):
        wg.gradient(lambda a: np.sum(np.linalg.qr(a).R), a)


def test_lstsq_gradient_is_the_normal_equations_gradient(rng):
    a = rng.standard_normal((5, 2))
    b = rng.standard_normal(5)

    def total(a, b):
        x, _, rank, _ = np.linalg.lstsq(a, b)
        assert type(rank) is not type(x)   # the rank is a plain integer, not traced
        return np.sum(x) * rank

    x_only, _ = wg.gradient(total, a, b)
    np.testing.assert_allclose(x_only, wg.gradient(
        lambda a: 2 * np.sum(np.linalg.solve(a.T @ a, a.T @ b)), a)[0], atol=1e-10)


def test_eigvalsh_and_svdvals(rng):
    a = separated((2, 3, 3), np.float64, rng)
    check_grads(lambda a: np.linalg.eigvalsh(hermitian(a)), a, modes=REVERSE)
    (g,) = wg.gradient(lambda a: np.sum(np.linalg.eigvalsh(a)), np.eye(3))  # trace: I
    np.testing.assert_allclose(g, np.eye(3), atol=1e-12)
    if hasattr(np.linalg, "svdvals"):
        check_grads(np.linalg.svdvals, distinct_singular((3, 2), np.complex128, rng),
                    modes=REVERSE)


@pytest.mark.skipif(not hasattr(np.linalg, "vector_norm"), reason="NumPy 2 array API")
@pytest.mark.parametrize("ord", (2, 1, np.inf, 3), ids=str)
def test_array_api_norms(ord, rng):
    x = rng.standard_normal((2, 3, 4))
    check_grads(lambda x: np.linalg.vector_norm(x, ord=ord), x, modes=REVERSE)
    check_grads(lambda x: np.linalg.vector_norm(x, axis=(0, 2), ord=ord, keepdims=True), x,
                modes=REVERSE)
    matrix_ord = "nuc" if ord == 3 else ord
    check_grads(lambda x: np.linalg.matrix_norm(x, ord=matrix_ord), x, modes=REVERSE)


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


@pytest.mark.parametrize("name,fn,shapes", ALIASES, ids=[a[0] for a in ALIASES])
def test_array_api_aliases_use_the_numpy_rule(name, fn, shapes, rng):
    if not hasattr(np.linalg, name):
        pytest.skip(f"np.linalg.{name} needs NumPy 2")
    args = [random(shape, np.complex128, rng) for shape in shapes]
    try:
        check_grads(fn, *args, modes=REVERSE)
    except wg.DifferentiationError as error:   # the plain NumPy function has no rule yet
        assert "no derivative rule" in str(error)
        pytest.xfail(str(error))


def test_matrix_rank_is_not_differentiable(rng):
    (g,) = wg.gradient(lambda a: np.linalg.matrix_rank(a) * np.sum(a), np.eye(2))
    np.testing.assert_allclose(g, 2 * np.ones((2, 2)))
