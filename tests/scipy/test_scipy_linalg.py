"""scipy.linalg through its doors (rules/scipy_linalg*.py), against central finite differences
of the SciPy functions themselves, in both modes: the solves (triangular, general and
structured, Cholesky, LU), inv, det, expm, sqrtm, solve_sylvester, eigh, eigvalsh, svd, qr,
block_diag and toeplitz; float32, float64 and complex input, stacks of matrices where SciPy
takes them; second derivatives in all four nestings, at special points (the identity, zero)
too; and the errors for options without a derivative.

Routines that read one triangle are checked on inputs whose triangles differ (``lopsided``),
so a derivative of the wrong triangle, or of a symmetrized input, fails.
(The file is not called test_linalg.py: tests/rules has one, and pytest needs distinct names.)
"""
import numpy as np
import pytest

scipy = pytest.importorskip("scipy")
import scipy.linalg as sl  # noqa: E402  (imported here: wengert's rules load with it)

import wengert as wg  # noqa: E402
from wengert.testing import check_frule, check_grads, check_rrule  # noqa: E402

BOTH = ("reverse", "forward")
REAL = (np.float64, np.float32)
ALL = (np.float64, np.float32, np.complex128)
# SciPy reads leading axes as a stack of matrices from 1.16 on (inv's assume_a from 1.17).
BATCHES = np.lib.NumpyVersion(scipy.__version__) >= "1.16.0"
INV_STRUCTURES = np.lib.NumpyVersion(scipy.__version__) >= "1.17.0"


# --- inputs ------------------------------------------------------------------------------------

def random(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def adjoint(a):
    return np.conj(np.swapaxes(a, -1, -2))


def general(shape, dtype, rng):
    """Random plus n·I: well conditioned, and its triangles too."""
    return (random(shape, dtype, rng) + max(shape[-2:]) * np.eye(*shape[-2:])).astype(dtype)


def shuffled(shape, dtype, rng):
    """``general`` with its rows rotated: partial pivoting puts them back, in an order that
    is not its own inverse for n > 2."""
    return np.roll(general(shape, dtype, rng), 1, axis=-2)


def spd(shape, dtype, rng):
    x = random(shape, dtype, rng)
    return (x @ adjoint(x) / shape[-1] + np.eye(shape[-1])).astype(dtype)


def separated(shape, dtype, rng):
    """Hermitian with eigenvalues 1, 2.5, 4, ...: a smooth spectrum to differentiate."""
    q = np.linalg.qr(random(shape, dtype, rng))[0]
    return ((q * (1 + 1.5 * np.arange(shape[-1]))) @ adjoint(q)).astype(dtype)


def lopsided(maker):
    """``maker``'s matrix plus a small random one: the triangles (and the imaginary part of a
    complex diagonal) differ, so a rule reading the wrong entries fails the checks."""
    return lambda shape, dtype, rng: (maker(shape, dtype, rng)
                                      + 0.1 * random(shape, dtype, rng)).astype(dtype)


def small(shape, dtype, rng):
    return (0.4 * random(shape, dtype, rng)).astype(dtype)


def vector(shape, dtype, rng):
    return random(shape[-1:], dtype, rng)


def columns(shape, dtype, rng):
    return random(shape[:-1] + (2,), dtype, rng)


def tall(maker):
    return lambda shape, dtype, rng: maker(shape[:-2] + (shape[-2] + 2, shape[-1]), dtype, rng)


def wide(maker):
    return lambda shape, dtype, rng: maker(shape[:-2] + (shape[-2], shape[-1] + 2), dtype, rng)


def arguments(makers, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    return [make(shape, dtype, rng) for make in makers]


# --- gauge-invariant views of factors ---------------------------------------------------------

def projector(w, v):
    """V diag(sin w) Vᴴ: blind to the sign (phase) of each eigenvector."""
    return (v * np.sin(w)[..., None, :]) @ adjoint(v)


def reconstruction(u, s, vh):
    k = s.shape[-1]
    return (u[..., :, :k] * np.exp(s)[..., None, :]) @ vh[..., :k, :]


def lu_of(a):
    return sl.lu_factor(a)[0]


def lu_pair(shape, dtype, rng):
    return sl.lu_factor(shuffled(shape, dtype, rng))


def reversing(lu):
    """Pivots that swap row i with row n-1-i (LAPACK checks none: they must be in range)."""
    return np.arange(lu.shape[-1])[::-1].copy()


# --- the spec table: every function, in both modes, over shapes and dtypes ---------------------

CASES = {   # name: (function, argument makers, dtypes, whether SciPy takes stacks)
    "solve_triangular": (lambda a, b: sl.solve_triangular(a, b), (lopsided(general), vector),
                         ALL, True),
    "solve_triangular lower T": (lambda a, b: sl.solve_triangular(a, b, trans="T", lower=True),
                                 (lopsided(general), columns), ALL, True),
    "solve_triangular C unit": (lambda a, b: sl.solve_triangular(a, b, 2, unit_diagonal=True),
                                (lopsided(general), vector), ALL, True),
    "solve_triangular 1 lower": (lambda a, b: sl.solve_triangular(a, b, 1, True),
                                 (lopsided(general), columns), ALL, True),
    "solve": (lambda a, b: sl.solve(a, b), (general, vector), ALL, True),
    "solve gen": (lambda a, b: sl.solve(a, b, assume_a="gen"), (general, columns), ALL, True),
    "solve sym": (lambda a, b: sl.solve(a, b, assume_a="sym"), (lopsided(general), vector),
                  ALL, True),
    "solve her lower": (lambda a, b: sl.solve(a, b, assume_a="her", lower=True),
                        (lopsided(spd), columns), ALL, True),
    "solve pos": (lambda a, b: sl.solve(a, b, assume_a="pos"), (lopsided(spd), vector), ALL,
                  True),
    "solve diagonal": (lambda a, b: sl.solve(a, b, assume_a="diagonal"), (general, vector),
                       ALL, True),
    "solve tridiagonal": (lambda a, b: sl.solve(a, b, assume_a="tridiagonal"),
                          (general, columns), ALL, True),
    "solve upper triangular": (lambda a, b: sl.solve(a, b, assume_a="upper triangular"),
                               (general, vector), ALL, True),
    "solve lower triangular": (lambda a, b: sl.solve(a, b, assume_a="lower triangular"),
                               (general, columns), ALL, True),
    "solve banded": (lambda a, b: sl.solve(a, b, assume_a="banded"), (general, vector), ALL,
                     False),
    "solve transposed": (lambda a, b: sl.solve(a, b, transposed=True), (general, vector),
                         REAL, True),
    "solve transposed sym": (lambda a, b: sl.solve(a, b, assume_a="sym", transposed=True),
                             (lopsided(general), vector), REAL, True),
    "inv": (sl.inv, (general,), ALL, True),
    "det": (sl.det, (general,), ALL, True),
    "cholesky": (sl.cholesky, (lopsided(spd),), ALL, True),
    "cholesky lower": (lambda a: sl.cholesky(a, lower=True), (lopsided(spd),), ALL, True),
    "cho_factor lower": (lambda a: np.tril(sl.cho_factor(a, lower=True)[0]), (lopsided(spd),),
                         ALL, True),
    "cho_factor upper": (lambda a: np.triu(sl.cho_factor(a)[0]), (lopsided(spd),), ALL, True),
    "cho_solve": (lambda c, b: sl.cho_solve((c, False), b), (general, vector), ALL, True),
    "cho_solve lower": (lambda c, b: sl.cho_solve((c, True), b), (general, columns), ALL,
                        True),
    "lu_factor": (lu_of, (shuffled,), ALL, True),
    "lu_solve": (lambda a, b: sl.lu_solve(sl.lu_factor(a), b), (shuffled, vector), ALL, True),
    "lu_solve trans T": (lambda lu, b: sl.lu_solve((lu, reversing(lu)), b, trans=1),
                         (general, columns), ALL, False),
    "lu_solve trans C": (lambda a, b: sl.lu_solve(sl.lu_factor(a), b, trans=2),
                         (shuffled, columns), ALL, True),
    "expm": (sl.expm, (small,), ALL, True),
    "sqrtm": (sl.sqrtm, (spd,), ALL, True),
    "sqrtm general": (sl.sqrtm, (general,), (np.float64, np.complex128), False),
    "solve_sylvester": (sl.solve_sylvester, (general, spd, random), ALL, True),
    "eigh values": (lambda a: sl.eigh(a)[0], (lopsided(separated),), ALL, True),
    "eigh upper": (lambda a: projector(*sl.eigh(a, lower=False)), (lopsided(separated),), ALL,
                   True),
    "eigh eigvals_only": (lambda a: sl.eigh(a, eigvals_only=True, driver="evr"),
                          (lopsided(separated),), ALL, True),
    "eigvalsh upper": (lambda a: sl.eigvalsh(a, lower=False), (lopsided(separated),), ALL,
                       True),
    "svd values": (lambda a: sl.svd(a, compute_uv=False), (general,), ALL, True),
    "svd thin tall": (lambda a: reconstruction(*sl.svd(a, full_matrices=False)),
                      (tall(general),), ALL, True),
    "svd full wide": (lambda a: reconstruction(*sl.svd(a, lapack_driver="gesvd")),
                      (wide(general),), ALL, True),
    "qr": (lambda a: sl.qr(a), (general,), ALL, True),
    "qr economic tall": (lambda a: sl.qr(a, mode="economic"), (tall(random),), ALL, True),
    "qr r tall": (lambda a: sl.qr(a, mode="r"), (tall(random),), ALL, True),
    "qr pivoting": (lambda a: sl.qr(a, mode="economic", pivoting=True)[:2], (tall(random),),
                    ALL, False),
    "block_diag": (lambda a, b: sl.block_diag(a, b, 2.0, [[1.0, 3.0]]), (general, vector), ALL,
                   False),
    "toeplitz": (lambda c: sl.toeplitz(c), (vector,), ALL, False),
    "toeplitz c r": (lambda c, r: sl.toeplitz(c, r), (columns, vector), ALL, BATCHES),
}
# Every dtype on 3x3 matrices; 2x2 and stacks (broadcast right-hand sides included) in the
# widest real and complex types, to keep the file fast.
SHAPES = {"3x3": ((3, 3), ALL), "2x2": ((2, 2), (np.float64,)),
          "stack": ((2, 3, 3), (np.float64, np.complex128))}


def spec_params():
    for name, (_, _, dtypes, stacks) in CASES.items():
        for shape_name, (shape, shape_dtypes) in SHAPES.items():
            if len(shape) > 2 and not (stacks and BATCHES):
                continue
            if name == "solve tridiagonal" and shape == (2, 2) and not INV_STRUCTURES:
                continue   # SciPy before 1.17 fails on a 2x2 tridiagonal system itself
            for dtype in dtypes:
                if dtype in shape_dtypes:
                    yield pytest.param(name, shape, dtype,
                                       id=f"{name}-{shape_name}-{np.dtype(dtype).name}")


@pytest.mark.parametrize("name, shape, dtype", list(spec_params()))
def test_derivatives(name, shape, dtype):
    f, makers, _, _ = CASES[name]
    check_grads(f, *arguments(makers, shape, dtype, len(name)), modes=BOTH)


# --- the rules themselves: their values and both modes, called through the doors --------------

RULES = [   # (function, argument makers, keywords)
    (sl.solve_triangular, (lopsided(general), columns), {"trans": "C", "lower": True}),
    (sl.solve, (lopsided(spd), vector), {"assume_a": "pos", "lower": True}),
    (sl.inv, (general,), {}),
    (sl.det, (general,), {}),
    (sl.cholesky, (lopsided(spd),), {"lower": True}),
    (sl.lu_solve, (lu_pair, vector), {"trans": 1}),
    (sl.expm, (small,), {}),
    (sl.sqrtm, (spd,), {}),
    (sl.solve_sylvester, (general, general, random), {}),
    (sl.eigvalsh, (lopsided(separated),), {"lower": False}),
    (sl.svd, (general,), {"compute_uv": False}),
    (sl.qr, (general,), {}),
]


@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
@pytest.mark.parametrize("fn, makers, kwargs", RULES, ids=[r[0].__name__ for r in RULES])
def test_rules(fn, makers, kwargs, dtype):
    args = arguments(makers, (3, 3), dtype, 7)
    check_rrule(fn, *args, **kwargs)
    check_frule(fn, *args, **kwargs)


def test_structured_inverses():
    if not INV_STRUCTURES:
        pytest.skip("scipy.linalg.inv takes assume_a= from SciPy 1.17")
    rng = np.random.default_rng(3)
    for dtype in (np.float64, np.complex128):
        a = lopsided(spd)((3, 3), dtype, rng)
        for kwargs in ({"assume_a": "pos", "lower": True}, {"assume_a": "her"},
                       {"assume_a": "sym", "lower": True}, {"assume_a": "diagonal"},
                       {"assume_a": "upper triangular"}, {"assume_a": "lower triangular"}):
            check_grads(lambda a: sl.inv(a, **kwargs), a, modes=BOTH)


# --- one triangle read: the derivative of the function, zero where it does not look -------------

@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
@pytest.mark.parametrize("lower", (True, False))
def test_one_triangle_readers_have_no_gradient_on_the_other(lower, dtype):
    a = lopsided(spd)((4, 4), dtype, np.random.default_rng(5))
    unread = np.triu(np.ones((4, 4)), 1) if lower else np.tril(np.ones((4, 4)), -1)
    weights = np.arange(16.0).reshape(4, 4)
    for f in (lambda a: sl.cholesky(a, lower=lower),
              lambda a: sl.cho_factor(a, lower=lower)[0] * (1 - unread),
              lambda a: sl.eigvalsh(a, lower=lower),
              lambda a: sl.solve(a, weights[0], assume_a="pos", lower=lower),
              lambda a: sl.solve_triangular(a, weights, lower=lower)):
        (g,) = wg.gradient(lambda a: np.sum(np.abs(f(a)) ** 2 * np.arange(1, 5)), a)
        assert np.all(g[unread == 1] == 0)
        assert np.abs(g).max() > 0
        t = random((4, 4), dtype, np.random.default_rng(6))
        np.testing.assert_array_equal(wg.jvp(f, (a,), (t * unread,))[1], 0)


def test_cho_factor_tangent_is_zero_on_the_untouched_triangle(rng):
    a = spd((3, 3), np.float64, rng)
    (c, lower), (dc, _) = wg.jvp(sl.cho_factor, (a,), (random((3, 3), np.float64, rng),))
    assert not lower and np.all(np.tril(dc, -1) == 0)   # SciPy 1.18 gives np.False_
    # What SciPy leaves there (a's entries; zeros from SciPy 1.18), and no derivative.
    np.testing.assert_array_equal(np.tril(c, -1), np.tril(sl.cho_factor(a)[0], -1))


def test_unit_diagonal_is_not_read(rng):
    a = general((3, 3), np.float64, rng)
    b = random((3,), np.float64, rng)
    (g, _) = wg.gradient(lambda a, b: np.sum(sl.solve_triangular(a, b, unit_diagonal=True)),
                         a, b)
    np.testing.assert_array_equal(np.diagonal(g), 0)


# --- second derivatives: four nestings ----------------------------------------------------------

def check_second_order(f, *args):
    """Reverse over reverse and forward over reverse (check_grads, order 2), then reverse over
    forward and forward over forward: both modes on a forward-mode directional derivative."""
    check_grads(f, *args, modes=BOTH, order=2, atol=1e-5, rtol=1e-5)
    rng = np.random.default_rng(1)
    ts = tuple(random(np.shape(a), np.asarray(a).dtype, rng) for a in args)
    out = f(*args)
    w = random(np.shape(out), np.asarray(out).dtype, rng)

    def along(*a):
        return np.real(np.sum(np.conj(w) * wg.jvp(f, a, ts)[1]))

    check_grads(along, *args, modes=BOTH, atol=1e-5, rtol=1e-5)


SECOND_ORDER = {
    "cholesky": (lambda a: sl.cholesky(a, lower=True), (lopsided(spd),)),
    "cholesky upper": (sl.cholesky, (lopsided(spd),)),
    "solve_triangular": (lambda a, b: sl.solve_triangular(a, b, trans=2),
                         (lopsided(general), columns)),
    "det": (sl.det, (general,)),
    "inv": (sl.inv, (general,)),
    "solve pos": (lambda a, b: sl.solve(a, b, assume_a="pos"), (lopsided(spd), vector)),
    "cho_solve": (lambda c, b: sl.cho_solve((c, True), b), (general, vector)),
    "lu_solve": (lambda a, b: sl.lu_solve(sl.lu_factor(a), b), (shuffled, vector)),
    "expm": (sl.expm, (small,)),
    "sqrtm": (sl.sqrtm, (spd,)),
    "eigh": (lambda a: projector(*sl.eigh(a)), (lopsided(separated),)),
}


COMPLEX_SECOND_ORDER = ("cholesky", "solve_triangular", "det", "inv", "eigh")


@pytest.mark.parametrize("name, dtype", [(name, np.float64) for name in SECOND_ORDER] + [
    (name, np.complex128) for name in COMPLEX_SECOND_ORDER])
def test_second_order(name, dtype):
    f, makers = SECOND_ORDER[name]
    check_second_order(f, *arguments(makers, (3, 3), dtype, 11))


@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
def test_second_order_at_special_points(dtype):
    identity = np.eye(3, dtype=dtype)
    for f, x in ((sl.det, identity), (sl.inv, identity), (sl.sqrtm, identity),
                 (sl.expm, np.zeros((3, 3), dtype)), (sl.cholesky, identity),
                 (lambda a: sl.solve_triangular(a, np.arange(3.0)), identity)):
        check_second_order(f, x)


def test_values_at_special_points():
    identity, zero = np.eye(3), np.zeros((3, 3))
    t = np.arange(9.0).reshape(3, 3)
    np.testing.assert_allclose(wg.gradient(sl.det, identity)[0], identity)   # cofactors of I
    np.testing.assert_allclose(wg.jvp(sl.expm, (zero,), (t,))[1], t, atol=1e-14)   # id
    np.testing.assert_allclose(wg.jvp(sl.sqrtm, (identity,), (t,))[1], t / 2, atol=1e-14)
    np.testing.assert_allclose(wg.gradient(lambda a: np.sum(sl.sqrtm(a)), identity)[0],
                               np.full((3, 3), 0.5))
    (hessian_of_det,) = wg.jacobian(lambda a: wg.gradient(sl.det, a)[0], identity)
    # ∂²det/∂a_ij∂a_kl at I is δ_ij δ_kl - δ_il δ_kj
    expected = (np.einsum("ij,kl->ijkl", identity, identity)
                - np.einsum("il,kj->ijkl", identity, identity))
    np.testing.assert_allclose(hessian_of_det, expected, atol=1e-12)


# --- composites and calling conventions -----------------------------------------------------

def test_lu_factor_then_lu_solve_is_solve(rng):
    a = shuffled((4, 4), np.float64, rng)
    assert np.any(sl.lu_factor(a)[1] != np.arange(4))   # rows are swapped
    b = random((4,), np.float64, rng)
    ct = random((4,), np.float64, rng)
    by_lu = wg.pullback(lambda a, b: sl.lu_solve(sl.lu_factor(a), b), a, b)[1](ct)
    by_solve = wg.pullback(lambda a, b: np.linalg.solve(a, b), a, b)[1](ct)
    for got, want in zip(by_lu, by_solve):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_cholesky_then_cho_solve_gradient_is_analytic(rng):
    k = spd((5, 5), np.float64, rng)
    y = random((5,), np.float64, rng)

    def quadratic(k):
        return y @ sl.cho_solve(sl.cho_factor(k, lower=True), y)

    (g,) = wg.gradient(quadratic, k)
    alpha = np.linalg.solve(k, y)
    # d(yᵀK⁻¹y) = -αᵀ dK α, with dK the Hermitian matrix cho_factor sees (lower triangle)
    expected = -np.outer(alpha, alpha)
    np.testing.assert_allclose(g, np.tril(2 * expected, -1) + np.diag(np.diag(expected)),
                               rtol=1e-10)


def test_traced_keyword_arguments(rng):
    a = general((3, 3), np.float64, rng)
    b = random((3,), np.float64, rng)
    by_keyword = wg.gradient(lambda a, b: np.sum(sl.solve_triangular(b=b, a=a, lower=True)),
                             a, b)
    by_position = wg.gradient(lambda a, b: np.sum(sl.solve_triangular(a, b, lower=True)), a, b)
    for got, want in zip(by_keyword, by_position):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_overwrite_flags_leave_the_inputs_alone(rng):
    a = np.asfortranarray(spd((4, 4), np.float64, rng))
    b = np.asfortranarray(random((4, 2), np.float64, rng))
    a0, b0 = a.copy(), b.copy()

    def f(a, b):
        c = sl.cho_factor(a, overwrite_a=True)
        return np.sum(sl.cho_solve(c, b, overwrite_b=True) ** 2) + sl.det(a, overwrite_a=True)

    wg.gradient(f, a, b)
    wg.jvp(f, (a, b), (a, b))
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_sqrtm_of_a_real_matrix_with_a_complex_root(rng):
    a = np.array([[-1.0, 0.3], [0.2, -2.0]])   # negative eigenvalues: the root is complex
    check_grads(lambda a: sl.sqrtm(a), a, modes=BOTH)
    (g,) = wg.gradient(lambda a: np.sum(np.abs(sl.sqrtm(a)) ** 2), a)
    assert g.dtype == np.float64


# --- options without a derivative: clear errors, in both modes --------------------------------

UNSUPPORTED = [   # (call on a traced a, what the message must name)
    (lambda a: sl.eigh(a, np.eye(3))[0], "b="),
    (lambda a: sl.eigh(a, subset_by_index=[0, 1])[0], "subset_by_index="),
    (lambda a: sl.eigvalsh(a, subset_by_value=[0.0, 2.0]), "subset_by_value="),
    (lambda a: sl.qr(a, mode="raw")[0][0], "mode='raw'"),
    (lambda a: sl.qr(a[:2])[1], "m >= n"),
    (lambda a: sl.qr(np.concatenate([a, a]))[0], "square"),
    (lambda a: sl.lu_factor(a[:2])[0], "square"),
]


@pytest.mark.parametrize("f, named", UNSUPPORTED, ids=[u[1] for u in UNSUPPORTED])
def test_unsupported_options_raise(f, named):
    a = spd((3, 3), np.float64, np.random.default_rng(0))
    with pytest.raises(wg.DifferentiationError, match=named.replace("(", r"\(")) as error:
        wg.gradient(lambda a: np.sum(f(a)), a)
    assert "scipy.linalg." in str(error.value)
    with pytest.raises(wg.DifferentiationError, match=named.replace("(", r"\(")):
        wg.jvp(f, (a,), (a,))
