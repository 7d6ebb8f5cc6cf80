"""Derivative checks of rules/eig.py (np.linalg.eig, eigvals) in both modes, driven by one
spec table, and the two modes checked adjoint to each other.

Inputs have well separated eigenvalues: real ones (X diag(λ) X⁻¹) and, for real matrices,
complex-conjugate pairs. Eigenvectors are checked through phase-blind functions (|V|², and
V diag(sin λ) V⁻¹ = sin A): their phase is LAPACK's choice and has no derivative.
"""
import numpy as np
import pytest

import wengert as wg
from linalg_inputs import (spec_table_tests, Case, assert_adjoint, general, random_like,
                           weighted_abs2)

REAL = (np.float64, np.float32)


def diagonalizable(shape, dtype, rng):
    """X diag(1, 2.5, 4, ...) X⁻¹ with a well-conditioned X: distinct real eigenvalues."""
    x = general(shape, dtype, rng)
    eigenvalues = 1 + 1.5 * np.arange(shape[-1])
    return ((x * eigenvalues) @ np.linalg.inv(x)).astype(dtype)


def conjugate_pairs(shape, dtype, rng):
    """A real X B X⁻¹ whose B has 2x2 blocks [[a, -b], [b, a]]: eigenvalues a ± ib (plus one
    real eigenvalue when n is odd)."""
    n = shape[-1]
    b = np.diag(1 + 1.5 * np.arange(n))
    for k in range(0, n - 1, 2):
        b[k, k + 1], b[k + 1, k] = -(k + 2.0), k + 2.0
    x = general(shape, dtype, rng)
    return (x @ b @ np.linalg.inv(x)).astype(dtype)


def _sin_of(a):
    w, v = np.linalg.eig(a)
    return (v * np.sin(w)[..., None, :]) @ np.linalg.inv(v)


CASES = [
    Case("eig values", lambda a: np.linalg.eig(a).eigenvalues, (diagonalizable,), order=2),
    Case("eig |V|²", lambda a: weighted_abs2(np.linalg.eig(a)[1]), (diagonalizable,)),
    Case("eig sin A", _sin_of, (diagonalizable,), order=2),
    Case("eigvals", np.linalg.eigvals, (diagonalizable,)),
    Case("eig values, conjugate pairs", lambda a: np.linalg.eig(a)[0], (conjugate_pairs,),
         dtypes=REAL, order=2),
    Case("eig |V|², conjugate pairs", lambda a: weighted_abs2(np.linalg.eig(a)[1]),
         (conjugate_pairs,), dtypes=REAL),
    Case("eig sin A, conjugate pairs", lambda a: np.real(_sin_of(a)), (conjugate_pairs,),
         dtypes=REAL),
    Case("eigvals, conjugate pairs", np.linalg.eigvals, (conjugate_pairs,), dtypes=REAL),
]

PARAMS, test_derivatives, test_second_order, test_forward_over_forward = (
    spec_table_tests(CASES))


@pytest.mark.parametrize("make, dtype", [(diagonalizable, np.float64),
                                         (diagonalizable, np.complex128),
                                         (conjugate_pairs, np.float64)])
@pytest.mark.parametrize("f", [lambda a: tuple(np.linalg.eig(a)), np.linalg.eigvals],
                         ids=["eig", "eigvals"])
def test_modes_are_adjoint(f, make, dtype, rng):
    # ⟨ct, J t⟩ = ⟨Jᴴ ct, t⟩ for any cotangent, phase-dependent ones included: both modes
    # fix the same gauge.
    a = make((2, 3, 3), dtype, rng)
    assert_adjoint(f, a, rng, random_like(a, rng))


def test_sin_of_a_matrix_through_eig_matches_its_series(rng):
    a = diagonalizable((3, 3), np.float64, rng) / 4
    t = random_like(a, rng)
    _, d_eig = wg.jvp(_sin_of, (a,), (t,))

    def sin_series(a):   # sin A = Σ (-1)^k A^(2k+1) / (2k+1)!, through matmul only
        term, total = a, a
        for k in range(1, 12):
            term = -term @ a @ a / ((2 * k) * (2 * k + 1))
            total = total + term
        return total

    _, d_series = wg.jvp(sin_series, (a,), (t,))
    np.testing.assert_allclose(np.real(d_eig), d_series, atol=1e-9)
