"""Derivative checks of rules/norms.py (np.linalg.norm, vector_norm, matrix_norm) in both modes,
driven by one spec table, and the sparse forward path of the 2-norm.
"""
import numpy as np
import pytest

import wengert as wg
from wengert.registry import forward_rules
from wengert.tangents import ZERO, Indexed, OneHot
from wengert.testing import check_grads

from linalg_inputs import (BOTH, spec_table_tests, Case, assert_adjoint, random, tall, vector_rhs)

VECTOR_ORDS = (None, 2, 1, np.inf, -np.inf, 3, 0.5, -1.5)
MATRIX_ORDS = ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf)
CASES = []
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
    Case("norm flat order 2", np.linalg.norm, (random,), order=2),
]

PARAMS, test_derivatives, test_second_order, test_forward_over_forward = (
    spec_table_tests(CASES))


@pytest.mark.parametrize("ord", VECTOR_ORDS + MATRIX_ORDS[:2], ids=str)
@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
def test_modes_are_adjoint(ord, dtype, rng):
    x = random((2, 3, 4), dtype, rng)
    axis = (-2, -1) if isinstance(ord, str) else -1
    assert_adjoint(lambda x: np.linalg.norm(x, ord, axis=axis), x, rng)


# --- the sparse 2-norm ------------------------------------------------------------------------

def test_distance_example_is_exact():
    f = lambda x, y: np.exp(-np.linalg.norm(x - y) ** 2)   # noqa: E731
    pf = wg.pushforward(f, np.array([1.0, 2.0]), np.array([0.0, 2.0]))
    assert pf(wg.OneHot(0, (2,)), wg.Zero()) == -0.7357588823428847   # -2/e
    assert pf(wg.Zero(), wg.OneHot(1, (2,))) == 0.0


def _never_dense(monkeypatch):
    def refuse(self):
        raise AssertionError("a sparse tangent was made dense")

    monkeypatch.setattr(Indexed, "to_dense", refuse)


@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
def test_partial_of_a_distance_stays_sparse(dtype, rng, monkeypatch):
    x = random((1000,), dtype, rng)
    y = random((1000,), dtype, rng)
    f = lambda x, y: np.exp(-np.linalg.norm(x - y) ** 2 / 1000)   # noqa: E731
    gx, gy = wg.gradient(f, x, y)
    _never_dense(monkeypatch)
    # For a real f of complex x, the partial is the gradient's element: ∂/∂Re + i ∂/∂Im
    # (two sparse forward passes).
    assert np.isclose(wg.partial(f, x, y, argnum=0, index=17), gx[17], rtol=1e-12)
    assert np.isclose(wg.partial(f, x, y, argnum=1, index=999), gy[999], rtol=1e-12)


WHOLE_ARRAY_TWO_NORMS = {
    "flat": lambda x: np.linalg.norm(x),
    "keepdims": lambda x: np.linalg.norm(x, keepdims=True),
    "fro": lambda x: np.linalg.norm(x, "fro"),
    "axes": lambda x: np.linalg.norm(x, axis=(0, 1)),
}
if hasattr(np.linalg, "vector_norm"):
    WHOLE_ARRAY_TWO_NORMS["vector_norm"] = lambda x: np.linalg.vector_norm(x)
    WHOLE_ARRAY_TWO_NORMS["matrix_norm"] = lambda x: np.linalg.matrix_norm(x, keepdims=True)


@pytest.mark.parametrize("name", WHOLE_ARRAY_TWO_NORMS)
def test_two_norms_of_whole_arrays_keep_one_hot_tangents_sparse(name, rng, monkeypatch):
    call = WHOLE_ARRAY_TWO_NORMS[name]
    x = rng.standard_normal((3, 4))
    (g,) = wg.gradient(lambda x: np.sum(call(x)), x)
    out = call(x)
    _never_dense(monkeypatch)
    _, dy = wg.jvp(call, (x,), (OneHot((1, 2), (3, 4)),))
    assert np.shape(dy) == np.shape(out)
    np.testing.assert_allclose(dy, g[1, 2], rtol=1e-12)


def test_sparse_two_norm_rule_returns_a_scalar_tangent(rng):
    x = rng.standard_normal(5)
    rule = forward_rules.generic[np.linalg.norm].impl
    out, dy = rule([OneHot(3, (5,)), ZERO], x)
    assert np.shape(dy) == () and not isinstance(dy, Indexed)
    assert dy == x[3] / out
    # Other orders densify the tangent and are still right.
    out, dy = rule([OneHot(3, (5,)), ZERO], x, 1)
    assert dy == np.sign(x[3])


@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
def test_one_hot_tangent_at_zero_is_zero(dtype):
    x = np.zeros(4, dtype)
    for t in (OneHot(1, (4,), dtype), np.ones(4, dtype)):
        _, dy = wg.jvp(np.linalg.norm, (x,), (t,))
        assert dy == 0


# --- kinks and ties (both modes: the forward tangent is Re⟨g, t⟩ for the same g) -------------

VECTOR_ORDS_AT_ZERO = (None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1.5)


def _tangent_along_ones(f, x):
    return wg.jvp(f, (x,), (np.ones_like(x),))[1]


@pytest.mark.filterwarnings("ignore:divide by zero")  # NumPy's own forward pass, for p < 0
@pytest.mark.parametrize("ord", VECTOR_ORDS_AT_ZERO, ids=str)
@pytest.mark.parametrize("dtype", (np.float64, np.complex128))
def test_vector_norm_at_zero_has_zero_derivative(ord, dtype):
    x = np.zeros(4, dtype)
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, ord), x)
    assert g.dtype == x.dtype
    np.testing.assert_array_equal(g, 0)
    assert _tangent_along_ones(lambda x: np.linalg.norm(x, ord), x) == 0


@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norm_at_zero_has_zero_derivative(ord):
    x = np.zeros((3, 2))
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, ord), x)
    np.testing.assert_array_equal(g, 0)
    assert _tangent_along_ones(lambda x: np.linalg.norm(x, ord), x) == 0


def test_p_norm_below_one_is_finite_at_a_zero_entry():
    x = np.array([0.0, 2.0, -1.0])
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, 0.5), x)
    assert np.all(np.isfinite(g)) and g[0] == 0
    assert np.isfinite(_tangent_along_ones(lambda x: np.linalg.norm(x, 0.5), x))


def test_inf_norm_ties_split_evenly():
    x = np.array([3.0, -3.0, 1.0])
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, np.inf), x)
    np.testing.assert_allclose(g, [0.5, -0.5, 0.0])
    assert wg.partial(lambda x: np.linalg.norm(x, np.inf), x, index=0) == 0.5
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, -np.inf), np.array([1.0, -1.0, 2.0]))
    np.testing.assert_allclose(g, [0.5, -0.5, 0.0])


def test_matrix_one_and_inf_norm_ties_split_evenly():
    x = np.array([[1.0, -2.0], [2.0, 1.0]])  # both column sums and both row sums are 3
    (g1,) = wg.gradient(lambda x: np.linalg.norm(x, 1), x)
    (g_inf,) = wg.gradient(lambda x: np.linalg.norm(x, np.inf), x)
    np.testing.assert_allclose(g1, 0.5 * np.sign(x))
    np.testing.assert_allclose(g_inf, 0.5 * np.sign(x))
    np.testing.assert_allclose(_tangent_along_ones(lambda x: np.linalg.norm(x, 1), x),
                               np.sum(g1))


def test_spectral_norm_tie_splits_evenly():
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, 2), 2 * np.eye(3))
    np.testing.assert_allclose(g, np.eye(3) / 3)
    np.testing.assert_allclose(_tangent_along_ones(lambda x: np.linalg.norm(x, 2), 2 * np.eye(3)),
                               1.0)


def test_norm_zero_order_has_no_derivative():
    x = np.array([1.0, 0.0, -2.0])
    (g,) = wg.gradient(lambda x: np.linalg.norm(x, 0) * 1.0, x)
    np.testing.assert_array_equal(g, 0)
    assert _tangent_along_ones(lambda x: np.linalg.norm(x, 0) * 1.0, x) == 0


@pytest.mark.skipif(not hasattr(np.linalg, "vector_norm"), reason="NumPy 2 array API")
@pytest.mark.parametrize("ord", (2, 1, np.inf, 3), ids=str)
def test_array_api_norms(ord, rng):
    x = rng.standard_normal((2, 3, 4))
    check_grads(lambda x: np.linalg.vector_norm(x, ord=ord), x, modes=BOTH)
    check_grads(lambda x: np.linalg.vector_norm(x, axis=(0, 2), ord=ord, keepdims=True), x,
                modes=BOTH)
    matrix_ord = "nuc" if ord == 3 else ord
    check_grads(lambda x: np.linalg.matrix_norm(x, ord=matrix_ord), x, modes=BOTH)
