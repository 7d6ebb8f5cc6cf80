"""Nested differentiation: reverse over reverse, forward over forward and every mix of the two,
to third and fourth order; mixed partials; no perturbation confusion when an inner
derivative closes over an outer traced value."""
import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_grads


def d(f):
    """The derivative of a scalar function of one scalar, as a function."""
    return lambda x: wg.gradient(f, x)[0]


# (id, f, its second derivative)
SECOND_DERIVATIVES = [
    ("sin", np.sin, lambda x: -np.sin(x)),
    ("exp", np.exp, np.exp),
    ("log", np.log, lambda x: -1 / x ** 2),
    ("tanh", np.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    ("x^3", lambda x: x ** 3, lambda x: 6 * x),
    ("1/x", lambda x: 1 / x, lambda x: 2 / x ** 3),
    ("sqrt", np.sqrt, lambda x: -0.25 * x ** -1.5),
    ("x sin x", lambda x: x * np.sin(x), lambda x: 2 * np.cos(x) - x * np.sin(x)),
    ("abs^2 complex", lambda x: np.abs(np.exp(1j * x) * x) ** 2, lambda x: 2.0),
]


@pytest.mark.parametrize("x", [0.7, 1.9], ids=str)
@pytest.mark.parametrize("f, f2", [c[1:] for c in SECOND_DERIVATIVES],
                         ids=[c[0] for c in SECOND_DERIVATIVES])
def test_second_derivative(f, f2, x):
    g2 = d(d(f))(x)
    assert type(g2) is float
    assert g2 == pytest.approx(f2(x), rel=1e-10)


def test_third_and_fourth_derivatives():
    f = lambda x: x ** 5 + np.sin(x)
    x = 0.8
    assert d(d(d(f)))(x) == pytest.approx(60 * x ** 2 - np.cos(x), rel=1e-10)
    assert d(d(d(d(f))))(x) == pytest.approx(120 * x + np.sin(x), rel=1e-10)


def test_second_derivative_keeps_float32():
    g2 = d(d(lambda x: x ** 3))(np.float32(2.0))
    assert type(g2) is np.float32 and g2 == 12


def test_mixed_partials_of_two_arguments():
    f = lambda x, y: x ** 2 * np.sin(y) + x * y ** 3
    x, y = 1.3, 0.4
    dxdy = wg.gradient(lambda x: wg.gradient(f, x, y)[1], x)[0]
    dydx = wg.gradient(lambda y: wg.gradient(f, x, y)[0], y)[0]
    expected = 2 * x * np.cos(y) + 3 * y ** 2
    assert dxdy == pytest.approx(expected, rel=1e-12)
    assert dydx == pytest.approx(expected, rel=1e-12)


def test_gradient_of_both_arguments_of_an_inner_gradient():
    # g(x, y) = ∂/∂b [a sin(b) x] at (a, b) = (x, y) = x² cos(y)
    g = lambda x, y: wg.gradient(lambda a, b: a * np.sin(b) * x, x, y)[1]
    gx, gy = wg.gradient(g, 2.0, 0.5)
    assert gx == pytest.approx(2 * 2.0 * np.cos(0.5))
    assert gy == pytest.approx(-2.0 ** 2 * np.sin(0.5))


# ---------------------------------------------------------------------------------------------
# Perturbation confusion: an inner gradient over a closure capturing an outer tracer
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("x", [0.0, 1.0, -3.5, 5.0], ids=str)
def test_no_perturbation_confusion(x):
    # d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1; confusing the two levels gives 2.
    (g,) = wg.gradient(lambda x: x * wg.gradient(lambda y: x + y, 1.0)[0], x)
    assert g == 1.0


@pytest.mark.parametrize("x", [0.5, 2.0], ids=str)
def test_inner_gradient_of_a_product_with_the_outer_variable(x):
    # d/dy (x y) = x, so d/dx of it is 1.
    (g,) = wg.gradient(lambda x: wg.gradient(lambda y: x * y, 3.0)[0], x)
    assert g == 1.0


def test_no_perturbation_confusion_with_arrays(rng):
    x = rng.standard_normal(3)
    # Inner: ∇_y Σ x y = x; outer: ∇_x Σ x · x = 2x.
    (g,) = wg.gradient(lambda x: np.sum(x * wg.gradient(lambda y: np.sum(x * y), np.ones(3))[0]),
                       x)
    np.testing.assert_allclose(g, 2 * x)


def test_inner_closure_over_outer_tracer_at_the_same_point():
    # The classic test: both levels differentiate at the same value x.
    f = lambda x: wg.gradient(lambda y: x * y ** 2, x)[0]      # 2 x · x = 2x²
    assert wg.gradient(f, 1.5)[0] == pytest.approx(4 * 1.5)


# ---------------------------------------------------------------------------------------------
# Hessian-vector products and vector functions
# ---------------------------------------------------------------------------------------------

def _energy(x):
    return np.sum(np.sin(x) * x ** 2) + np.sum(x[:-1] * x[1:])


def _energy_hessian(x):
    diag = 2 * np.sin(x) + 4 * x * np.cos(x) - x ** 2 * np.sin(x)
    h = np.diag(diag)
    h += np.diag(np.ones(len(x) - 1), 1) + np.diag(np.ones(len(x) - 1), -1)
    return h


def test_hessian_vector_product(rng):
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    hvp = wg.gradient(lambda x: np.sum(wg.gradient(_energy, x)[0] * v), x)[0]
    np.testing.assert_allclose(hvp, _energy_hessian(x) @ v, rtol=1e-10)


def test_jacobian_of_gradient_is_the_hessian(rng):
    x = rng.standard_normal(4)
    (h,) = wg.jacobian(lambda x: wg.gradient(_energy, x)[0], x)
    np.testing.assert_allclose(h, _energy_hessian(x), rtol=1e-10)


def test_second_order_through_pullback_of_a_vector_function(rng):
    # F(x) = A tanh(x); d/dx ⟨J(x)ᵀu, w⟩ = Σ_j u·A[:, j] w_j tanh''(x_j) e_j
    a = rng.standard_normal((3, 4))
    x, u, w = rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(4)
    F = lambda x: a @ np.tanh(x)

    def vjp_along_w(x):
        _, back = wg.pullback(F, x)
        return np.sum(back(u)[0] * w)

    (g,) = wg.gradient(vjp_along_w, x)
    t = np.tanh(x)
    np.testing.assert_allclose(g, (u @ a) * w * (-2 * t * (1 - t ** 2)), rtol=1e-10)
    check_grads(vjp_along_w, x, modes=("reverse",))


def test_nested_back_called_twice():
    def f(x):
        _, back = wg.pullback(lambda y: y ** 3 * x, x)
        return back(1.0)[0] + back(2.0)[0]      # 3 · 3x² · x = 9x³

    assert wg.gradient(f, 2.0)[0] == pytest.approx(27 * 4.0)


@pytest.mark.parametrize("f, x", [
    (lambda x: np.sum(x[0] * x[1] * x[2]), np.array([1.0, 2.0, 3.0])),
    (lambda x: sum(r ** 3 for r in x), np.array([1.0, -2.0, 0.5])),
    (lambda x: np.sum(np.where(x > 0, x ** 3, -x ** 2)), np.array([1.0, -2.0, 0.5])),
    (lambda m: np.sum((m @ m) ** 2), np.arange(4.0).reshape(2, 2) / 3),
    (lambda z: np.sum(np.abs(z * z + 1j) ** 2), np.array([0.3 + 0.2j, -1 + 0.5j])),
    (lambda x: np.sum(np.mean(np.exp(x), axis=0)), np.arange(6.0).reshape(2, 3) / 5),
], ids=["indexing", "iteration", "where", "matmul", "complex", "mean"])
def test_second_order_finite_differences(f, x):
    check_grads(f, x, modes=("reverse",), order=2)


def test_gradient_inside_a_loop_of_an_outer_gradient():
    # Newton-like unrolled steps: x_{k+1} = x_k - 0.1 f'(x_k), f = x⁴. Differentiate the end
    # point with respect to the start: the product of (1 - 0.1 f''(x_k)).
    def unrolled(x):
        for _ in range(3):
            x = x - 0.1 * wg.gradient(lambda y: y ** 4, x)[0]
        return x

    x0, expected, x = 0.9, 1.0, 0.9
    for _ in range(3):
        expected *= 1 - 0.1 * 12 * x ** 2
        x = x - 0.1 * 4 * x ** 3
    assert wg.gradient(unrolled, x0)[0] == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Forward mode in the mix: forward over forward, forward over reverse, reverse over forward
# ---------------------------------------------------------------------------------------------

def d_forward(f):
    """The derivative of a scalar function of one scalar by forward mode, as a function."""
    return lambda x: wg.derivative(f, x)


D = {"forward": d_forward, "reverse": d}
MIXES = [(outer, inner) for outer in D for inner in D]


@pytest.mark.parametrize("outer, inner", MIXES, ids=[f"{o}-over-{i}" for o, i in MIXES])
@pytest.mark.parametrize("f, f2", [c[1:] for c in SECOND_DERIVATIVES],
                         ids=[c[0] for c in SECOND_DERIVATIVES])
def test_second_derivative_in_every_mix(f, f2, outer, inner):
    x = 0.7
    g2 = D[outer](D[inner](f))(x)
    assert type(g2) is float
    assert g2 == pytest.approx(f2(x), rel=1e-10)


THIRD_ORDER = [(a, b, c) for a in D for b in D for c in D]


@pytest.mark.parametrize("modes", THIRD_ORDER, ids=["-".join(m) for m in THIRD_ORDER])
def test_third_derivative_in_every_mix(modes):
    # e.g. ("forward", "reverse", "forward"): the derivative of the gradient of the derivative.
    f = lambda x: x ** 5 + np.sin(x) * x
    g = f
    for mode in reversed(modes):
        g = D[mode](g)
    x = 0.8
    expected = 60 * x ** 2 - 3 * np.sin(x) - x * np.cos(x)
    assert g(x) == pytest.approx(expected, rel=1e-10)


def test_fourth_derivative_alternating_modes():
    f = lambda x: np.exp(2 * x) + x ** 4
    g = d_forward(d(d_forward(d(f))))
    assert g(0.3) == pytest.approx(16 * np.exp(0.6) + 24, rel=1e-10)


def test_third_derivative_of_a_vector_function_by_derivative_of_jacobian(rng):
    # d/dt of the forward Jacobian of x ↦ t·sin(x)² at x: 2 t sin cos on the diagonal.
    x = rng.standard_normal(3)
    g = wg.derivative(lambda t: wg.jacobian(lambda x: t * np.sin(x) ** 2, x, mode="forward")[0],
                      1.5)
    np.testing.assert_allclose(g, np.diag(2 * np.sin(x) * np.cos(x)), rtol=1e-12)


@pytest.mark.parametrize("outer", ["forward", "reverse"])
@pytest.mark.parametrize("inner", ["forward", "reverse"])
@pytest.mark.parametrize("x", [0.0, 1.0, -3.5], ids=str)
def test_no_perturbation_confusion_in_any_mix(outer, inner, x):
    # d/dx [x · d/dy (x + y)] = 1; confusing the levels gives 2.
    diff = {"forward": wg.derivative, "reverse": lambda f, x: wg.gradient(f, x)[0]}
    g = diff[outer](lambda x: x * diff[inner](lambda y: x + y, 1.0), x)
    assert g == 1.0


def test_the_issue_perturbation_confusion_example():
    assert wg.derivative(lambda x: x * wg.derivative(lambda y: x + y, 1.0), 1.0) == 1.0


@pytest.mark.parametrize("outer", ["forward", "reverse"])
@pytest.mark.parametrize("inner", ["forward", "reverse"])
def test_inner_derivative_at_the_outer_point(outer, inner):
    # f(x) = d/dy (x y²) at y = x = 2x², so f'(x) = 4x.
    diff = {"forward": wg.derivative, "reverse": lambda f, x: wg.gradient(f, x)[0]}
    g = diff[outer](lambda x: diff[inner](lambda y: x * y ** 2, x), 1.5)
    assert g == pytest.approx(6.0)


def test_no_perturbation_confusion_forward_over_reverse_with_arrays(rng):
    x = rng.standard_normal(3)
    u = rng.standard_normal(3)
    # Inner: ∇_y Σ x y = x; outer jvp of Σ x·x along u: 2 x·u.
    _, dy = wg.jvp(lambda x: np.sum(x * wg.gradient(lambda y: np.sum(x * y), np.ones(3))[0]),
                   (x,), (u,))
    assert dy == pytest.approx(2 * x @ u)


def test_hessian_vector_product_forward_over_reverse(rng):
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    _, hvp = wg.jvp(lambda x: wg.gradient(_energy, x)[0], (x,), (v,))
    np.testing.assert_allclose(hvp, _energy_hessian(x) @ v, rtol=1e-10)


def test_hessian_vector_product_reverse_over_forward(rng):
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    (hvp,) = wg.gradient(lambda x: wg.jvp(_energy, (x,), (v,))[1], x)
    np.testing.assert_allclose(hvp, _energy_hessian(x) @ v, rtol=1e-10)


def test_forward_jacobian_of_the_gradient_is_the_hessian(rng):
    x = rng.standard_normal(4)
    (h,) = wg.jacobian(lambda x: wg.gradient(_energy, x)[0], x, mode="forward")
    np.testing.assert_allclose(h, _energy_hessian(x), rtol=1e-10)
    np.testing.assert_allclose(wg.hessian(_energy, x), _energy_hessian(x), rtol=1e-10)


def test_gradient_of_a_forward_jacobian(rng):
    # L(x) = Σ J(x)² with J = diag(cos x): ∂L/∂x = d/dx cos² x = -sin 2x.
    x = rng.standard_normal(3)
    (g,) = wg.gradient(lambda x: np.sum(wg.jacobian(np.sin, x, mode="forward")[0] ** 2), x)
    np.testing.assert_allclose(g, -np.sin(2 * x), rtol=1e-12)


def test_gradient_of_a_hessian_trace(rng):
    # tr ∇²(Σ x⁴/12) = Σ x², whose gradient is 2x: three levels (reverse over forward over
    # reverse).
    x = rng.standard_normal(3)
    (g,) = wg.gradient(lambda x: np.trace(wg.hessian(lambda z: np.sum(z ** 4) / 12, x)), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-12)


def test_pushforward_of_a_pullback(rng):
    # jvp of x ↦ J(x)ᵀu for F = A tanh: the derivative of the VJP along w.
    a = rng.standard_normal((3, 4))
    x, u, w = rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(4)

    def vjp(x):
        _, back = wg.pullback(lambda x: a @ np.tanh(x), x)
        return back(u)[0]

    _, dy = wg.jvp(vjp, (x,), (w,))
    t = np.tanh(x)
    np.testing.assert_allclose(dy, (u @ a) * (-2 * t * (1 - t ** 2)) * w, rtol=1e-10)


@pytest.mark.parametrize("f, x", [
    (lambda x: np.sum(x[0] * x[1] * x[2]), np.array([1.0, 2.0, 3.0])),
    (lambda x: np.sum(np.where(x > 0, x ** 3, -x ** 2)), np.array([1.0, -2.0, 0.5])),
    (lambda m: np.sum((m @ m) ** 2), np.arange(4.0).reshape(2, 2) / 3),
    (lambda z: np.sum(np.abs(z * z + 1j) ** 2), np.array([0.3 + 0.2j, -1 + 0.5j])),
    (lambda x: np.sum(np.mean(np.exp(x), axis=0)), np.arange(6.0).reshape(2, 3) / 5),
], ids=["indexing", "where", "matmul", "complex", "mean"])
def test_second_order_finite_differences_both_modes(f, x):
    check_grads(f, x, modes=("reverse", "forward"), order=2)


def test_gradient_with_respect_to_the_tangent_is_the_transpose(rng):
    # v ↦ ⟨u, J v⟩ is linear with gradient Jᵀu: reverse mode through a jvp's tangent.
    a = rng.standard_normal((3, 4))
    x, u, v = rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(4)
    F = lambda x: a @ np.sin(x)
    (g,) = wg.gradient(lambda v: np.sum(u * wg.jvp(F, (x,), (v,))[1]), v)
    np.testing.assert_allclose(g, np.cos(x) * (a.T @ u), rtol=1e-12)


@pytest.mark.parametrize("x", [1.0, np.float32(1.0), np.float64(1.0)], ids=type)
@pytest.mark.parametrize("f", [np.sqrt, np.sin, lambda x: np.where(x > 0, np.log(x), 0.0) + x],
                         ids=["sqrt (pole guard)", "sin", "where"])
def test_second_derivative_of_a_scalar_is_a_scalar_in_every_nesting(f, x):
    """A guard's np.where once made a 0-d array of a scalar derivative under an outer level."""
    first = {"rev": lambda g: (lambda z: wg.gradient(g, z)[0]),
             "fwd": lambda g: (lambda z: wg.derivative(g, z))}
    for outer in first.values():
        for inner in first.values():
            got = outer(inner(f))(x)
            assert type(got) is (float if type(x) is float else type(x)), type(got)
