"""Derivative checks of rules/decompositions.py (cholesky, eigh, eigvalsh, svd, svdvals, qr) in
both modes, driven by one spec table.

Inputs are SPD for cholesky, with separated spectra for eigh and svd; see linalg_inputs.py.
Outputs with a phase or sign gauge (eigenvectors, singular vectors) are checked through
gauge-invariant functions. cholesky sees a Hermitian input (its derivative is the Hermitian
one); eigh and eigvalsh are also checked on inputs that are not Hermitian, as functions of the
triangle they read. test_modes_are_adjoint checks that both modes agree on each convention.
"""
import numpy as np
import pytest

import wengert as wg
from linalg_inputs import (BOTH, spec_table_tests, Case, adjoint, assert_adjoint,
                           distinct_singular, general, hermitian, random, random_like, separated,
                           spd, tall, unitary, weighted_abs2, wide)


def on_lower_triangle(gradient):
    """A real symmetric gradient as the gradient of the lower triangle eigh reads."""
    return np.tril(2 * gradient, -1) + np.diag(np.diagonal(gradient))


def lopsided(maker):
    """``maker``'s matrix plus a small random one: the triangles (and, for complex input, the
    diagonal's imaginary part) differ, so reading the wrong one shows."""
    return lambda shape, dtype, rng: maker(shape, dtype, rng) + 0.1 * random(shape, dtype, rng)


CASES = [
    Case("cholesky", lambda a: np.linalg.cholesky(hermitian(a)), (spd,), order=2),
    Case("cholesky upper", lambda a: np.linalg.cholesky(hermitian(a), upper=True), (spd,)),
    Case("eigh values", lambda a: np.linalg.eigh(hermitian(a)).eigenvalues, (separated,),
         order=2),
    Case("eigh vectors", lambda a: weighted_abs2(np.linalg.eigh(hermitian(a))[1]),
         (separated,)),
    Case("eigh upper", lambda a: _eigh_projector(hermitian(a), "U"), (separated,)),
    Case("eigh both", lambda a: _eigh_projector(hermitian(a), "L"), (separated,), order=2),
    Case("eigvalsh", lambda a: np.linalg.eigvalsh(hermitian(a)), (separated,)),
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
    Case("svd full tall: complement", lambda a: _complements(np.linalg.svd(a)),
         (tall(distinct_singular, 2),)),
    Case("svd full wide: complement", lambda a: _complements(np.linalg.svd(a)),
         (wide(distinct_singular, 2),)),
    Case("qr", lambda a: tuple(np.linalg.qr(a)), (general,)),
    Case("qr tall", lambda a: tuple(np.linalg.qr(a)), (tall(random, 2),)),
    Case("qr r only", lambda a: np.linalg.qr(a, mode="r"), (tall(random),)),
    Case("qr complete square", lambda a: tuple(np.linalg.qr(a, mode="complete")), (general,)),
]
# eigh and eigvalsh differentiate what NumPy computes from one triangle: checked against
# finite differences of the functions themselves, on inputs that are not Hermitian.
CASES += [
    Case("eigh values, not Hermitian", lambda a: np.linalg.eigh(a).eigenvalues,
         (lopsided(separated),), order=2),
    Case("eigh L, not Hermitian", lambda a: _eigh_projector(a, "L"), (lopsided(separated),),
         order=2),
    Case("eigh U, not Hermitian", lambda a: _eigh_projector(a, "U"), (lopsided(separated),),
         order=2),
    Case("eigvalsh U, not Hermitian", lambda a: np.linalg.eigvalsh(a, "U"),
         (lopsided(separated),), order=2),
    Case("eigvalsh L, not Hermitian", lambda a: np.linalg.eigvalsh(a, UPLO="l"),
         (lopsided(separated),)),
]
if hasattr(np.linalg, "svdvals"):
    CASES.append(Case("svdvals", np.linalg.svdvals, (wide(distinct_singular),)))


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


def _complements(result):
    """The projectors onto the extra columns of full U and V: gauge-invariant functions of
    the vectors that ``full_matrices=True`` adds."""
    u, s, vh = result
    k = s.shape[-1]
    u2, vh2 = u[..., :, k:], vh[..., k:, :]
    return u2 @ adjoint(u2), adjoint(vh2) @ vh2


PARAMS, test_derivatives, test_second_order, test_forward_over_forward = (
    spec_table_tests(CASES))


# --- the two modes agree, conventions included -------------------------------------------------

DECOMPOSITIONS = {   # name: (function, maker) for square inputs
    "cholesky": (np.linalg.cholesky, spd),
    "cholesky upper": (lambda a: np.linalg.cholesky(a, upper=True), spd),
    "eigh": (lambda a: tuple(np.linalg.eigh(a)), separated),
    "eigh UPLO=U": (lambda a: tuple(np.linalg.eigh(a, UPLO="U")), separated),
    "eigvalsh": (np.linalg.eigvalsh, separated),
    "svd": (lambda a: tuple(np.linalg.svd(a)), distinct_singular),
    "svd hermitian": (lambda a: tuple(np.linalg.svd(a, hermitian=True)), separated),
    "qr": (lambda a: tuple(np.linalg.qr(a)), general),
    "qr complete": (lambda a: tuple(np.linalg.qr(a, mode="complete")), general),
}
NON_SQUARE = {
    "svd tall": (lambda a: tuple(np.linalg.svd(a, full_matrices=False)), tall(distinct_singular)),
    "svd wide": (lambda a: tuple(np.linalg.svd(a, full_matrices=False)), wide(distinct_singular)),
    "svd full tall": (lambda a: tuple(np.linalg.svd(a)), tall(distinct_singular, 2)),
    "svd full wide": (lambda a: tuple(np.linalg.svd(a)), wide(distinct_singular, 2)),
    "svd values": (lambda a: np.linalg.svd(a, compute_uv=False), tall(distinct_singular)),
    "qr tall": (lambda a: tuple(np.linalg.qr(a)), tall(random, 2)),
    "qr r": (lambda a: np.linalg.qr(a, mode="r"), tall(random)),
}
EVERY_DECOMPOSITION = {**DECOMPOSITIONS, **NON_SQUARE}
ADJOINT_CASES = [(name, "hermitian") for name in DECOMPOSITIONS] + [
    (name, "general") for name in EVERY_DECOMPOSITION]


@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
@pytest.mark.parametrize("name,tangent", ADJOINT_CASES)
def test_modes_are_adjoint(name, dtype, tangent, rng):
    # ⟨ct, J t⟩ = ⟨Jᴴ ct, t⟩ for any cotangent, gauge-dependent ones included: both modes fix
    # the same gauge. cholesky and eigh read one triangle; both modes use the same convention
    # (the Hermitian derivative for cholesky, the triangle read for eigh), so the identity
    # holds for any tangent, not only for Hermitian ones.
    f, make = EVERY_DECOMPOSITION[name]
    a = make((2, 3, 3), dtype, rng)
    t = random_like(a, rng)
    assert_adjoint(f, a, rng, hermitian(t) if tangent == "hermitian" else t)


@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
def test_cholesky_and_hermitian_svd_see_the_hermitian_part_of_a_tangent(dtype, rng):
    a = spd((3, 3), dtype, rng)
    t = random((3, 3), dtype, rng)
    for f in (np.linalg.cholesky, lambda a: np.linalg.svd(a, hermitian=True)[1]):
        _, dy = wg.jvp(f, (a,), (t,))
        _, dy_hermitian = wg.jvp(f, (a,), (hermitian(t),))
        np.testing.assert_allclose(dy, dy_hermitian, atol=1e-12)


@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
@pytest.mark.parametrize("uplo", ("L", "U"))
def test_eigh_sees_one_triangle_of_a_tangent(uplo, dtype, rng):
    # eigh reads the UPLO triangle and the real part of the diagonal: a tangent equal to the
    # one that triangle mirrors gives the same derivative, one on the other triangle none.
    a = spd((3, 3), dtype, rng)
    t = random((3, 3), dtype, rng)
    read = np.tril(t, -1) if uplo == "L" else np.triu(t, 1)
    mirrored = read + adjoint(read) + np.diag(np.real(np.diagonal(t)))
    for f in (lambda a: np.linalg.eigvalsh(a, uplo), lambda a: np.linalg.eigh(a, uplo)[0]):
        _, dy = wg.jvp(f, (a,), (t,))
        np.testing.assert_allclose(dy, wg.jvp(f, (a,), (mirrored,))[1], atol=1e-12)
        unread = t - read - np.diag(np.real(np.diagonal(t)))
        np.testing.assert_allclose(wg.jvp(f, (a,), (unread,))[1], 0, atol=1e-12)


def test_one_hot_tangent_of_cholesky(rng):
    # A one-hot tangent of a symmetric matrix is half of the symmetric pair (i, j), (j, i).
    a = spd((3, 3), np.float64, rng)
    column = wg.partial(np.linalg.cholesky, a, index=(2, 0))
    pair = np.zeros((3, 3))
    pair[2, 0] = pair[0, 2] = 0.5
    np.testing.assert_allclose(column, wg.jvp(np.linalg.cholesky, (a,), (pair,))[1],
                               rtol=1e-12)


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

    for differentiate in (lambda: wg.gradient(f, a), lambda: wg.jvp(f, (a,), (a,))):
        seen.clear()
        differentiate()
        assert seen["eigh"] is type(np.linalg.eigh(a))
        assert seen["svd"] is type(np.linalg.svd(a))
        assert seen["qr"] is type(np.linalg.qr(a))
        assert seen["slogdet"] is type(np.linalg.slogdet(a))


# --- degenerate spectra -----------------------------------------------------------------------

def test_eigenvalues_of_repeated_spectrum_differentiate(rng):
    q = unitary((4, 4), np.float64, rng)
    a = (q * np.array([1.0, 1.0, 1.0, 3.0])) @ q.T
    f = lambda a: np.sum(np.linalg.eigh(a)[0] ** 2)   # noqa: E731
    (g,) = wg.gradient(f, a)
    # Σλ² = ‖A‖²_F, as a function of the lower triangle that eigh reads
    np.testing.assert_allclose(g, on_lower_triangle(2 * a), atol=1e-12)
    t = hermitian(rng.standard_normal((4, 4)))
    np.testing.assert_allclose(wg.jvp(f, (a,), (t,))[1], 2 * np.sum(a * t), rtol=1e-12)


def test_invariant_eigenvector_loss_at_repeated_eigenvalues(rng):
    # The projector onto the top two (equal) eigenvalues is smooth; its derivative is exact
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
    np.testing.assert_allclose(g, on_lower_triangle((expected + expected.T) / 2), atol=1e-10)
    assert np.all(np.isfinite(g))
    t = hermitian(rng.standard_normal((4, 4)))
    np.testing.assert_allclose(wg.jvp(top_projector, (a,), (t,))[1], np.sum(g * t),
                               rtol=1e-9)


def test_noninvariant_eigenvector_loss_at_repeated_eigenvalues_stays_finite():
    f = lambda a: np.sum(np.linalg.eigh(a)[1] * np.arange(9.0).reshape(3, 3))   # noqa: E731
    (g,) = wg.gradient(f, np.eye(3))
    assert np.all(np.isfinite(g))
    assert np.all(np.isfinite(wg.jvp(f, (np.eye(3),), (np.ones((3, 3)),))[1]))


# --- cholesky ---------------------------------------------------------------------------------

def test_cholesky_gradient_is_hermitian(rng):
    a = spd((4, 4), np.complex128, rng)
    (g,) = wg.gradient(lambda a: np.sum(np.abs(np.linalg.cholesky(a)) ** 2 * np.arange(4)), a)
    np.testing.assert_allclose(g, adjoint(g), atol=1e-12)


def test_cholesky_log_determinant_gradient_is_inverse(rng):
    a = spd((2, 5, 5), np.float64, rng)

    def logdet(a):
        return 2 * np.sum(np.log(np.diagonal(np.linalg.cholesky(a), axis1=-2, axis2=-1)))

    (g,) = wg.gradient(logdet, a)
    np.testing.assert_allclose(g, np.linalg.inv(a), rtol=1e-10)
    t = hermitian(rng.standard_normal((2, 5, 5)))
    np.testing.assert_allclose(wg.jvp(logdet, (a,), (t,))[1], np.sum(np.linalg.inv(a) * t),
                               rtol=1e-10)


def test_gaussian_process_derivatives_match_analytic(rng):
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
    expected = 0.5 * (np.linalg.inv(k) - np.outer(alpha, alpha))
    np.testing.assert_allclose(g, expected, atol=1e-10)
    t = hermitian(rng.standard_normal((n, n)))
    np.testing.assert_allclose(wg.jvp(nll, (k,), (t,))[1], np.sum(expected * t), rtol=1e-9)


# --- svd and qr -------------------------------------------------------------------------------

def test_svd_full_matrices_non_square(rng):
    a = tall(distinct_singular)((3, 3), np.float64, rng)
    (g,) = wg.gradient(lambda a: np.sum(np.linalg.svd(a).S), a)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(g, u @ vh, atol=1e-12)
    # The extra column of U is a basis of the rest: it moves orthogonally to the others.
    t = rng.standard_normal(a.shape)
    (u_full, _, _), (du, _, _) = wg.jvp(lambda a: tuple(np.linalg.svd(a)), (a,), (t,))
    np.testing.assert_allclose(adjoint(du) @ u_full + adjoint(u_full) @ du, 0, atol=1e-12)


def test_eigvalsh_and_svdvals(rng):
    (g,) = wg.gradient(lambda a: np.sum(np.linalg.eigvalsh(a)), np.eye(3))  # trace: I
    np.testing.assert_allclose(g, np.eye(3), atol=1e-12)
    _, dw = wg.jvp(np.linalg.eigvalsh, (np.eye(3),), (np.diag([1.0, 2.0, 3.0]),))
    np.testing.assert_allclose(np.sort(dw), [1.0, 2.0, 3.0], atol=1e-12)


def test_qr_unsupported_shape_raises(rng):
    a = rng.standard_normal((2, 3))
    with pytest.raises(wg.DifferentiationError, match="m >= n"):
        wg.gradient(lambda a: np.sum(np.linalg.qr(a).R), a)
    with pytest.raises(wg.DifferentiationError, match="m >= n"):
        wg.jvp(lambda a: np.linalg.qr(a).R, (a,), (a,))


@pytest.mark.parametrize("n", [257, 300, 401])
def test_blocked_cholesky_sweep_equals_the_dense_formula(n):
    # The blocked reverse sweep only runs for matrices over 2 blocks, which the spec table
    # never reaches: pin it to the dense formula, including a ragged last block.
    from wengert.rules import decompositions

    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n))
    l = np.linalg.cholesky(a @ a.T / n + np.eye(n))
    l_ct = rng.standard_normal((n, n))
    assert decompositions._sweep_applies(l, l_ct)
    blocked = decompositions._cholesky_cotangent_blocked(l, l_ct)
    dense = decompositions._cholesky_cotangent_dense(l, l_ct)
    np.testing.assert_allclose(blocked, dense, rtol=1e-10, atol=1e-12 * np.abs(dense).max())
    np.testing.assert_array_equal(blocked, blocked.T)


# --- eigh of a matrix that is not Hermitian ---------------------------------------------------

@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
@pytest.mark.parametrize("uplo", ("L", "U"))
def test_eigh_gradient_lives_on_the_triangle_read(uplo, dtype, rng):
    a = lopsided(separated)((2, 4, 4), dtype, rng)
    weights = np.arange(1.0, 5.0)
    for f in (lambda a: np.sum(weights * np.linalg.eigvalsh(a, uplo) ** 2),
              lambda a: np.sum(np.abs(_eigh_projector(a, uplo)) ** 2 * weights)):
        (g,) = wg.gradient(f, a)
        unread = np.triu(g, 1) if uplo == "L" else np.tril(g, -1)
        assert np.all(unread == 0)
        np.testing.assert_array_equal(np.imag(np.diagonal(g, axis1=-2, axis2=-1)), 0)
        wg.testing.check_grads(f, a, modes=BOTH)


@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
def test_eigh_reverse_over_forward(dtype, rng):
    # The fourth nesting (spec_table_tests run the other three): the reverse-mode gradient of
    # a forward-mode directional derivative, against finite differences.
    a = lopsided(separated)((3, 3), dtype, rng)
    t = random((3, 3), dtype, rng)
    for f in (lambda a: np.linalg.eigvalsh(a, "U"), lambda a: _eigh_projector(a, "U")):
        w = random(np.shape(f(a)), dtype, rng)

        def directional(a):
            return np.real(np.sum(np.conj(w) * wg.jvp(f, (a,), (t,))[1]))

        wg.testing.check_grads(directional, a, modes=BOTH)
