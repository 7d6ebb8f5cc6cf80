import numpy as np
import pytest

import wengert as wg


def test_gradient_of_float_is_float():
    (g,) = wg.gradient(lambda x: x ** 3 + 2 * x, 2.0)
    assert type(g) is float
    assert g == pytest.approx(14.0)


def test_gradient_one_per_argument(rng):
    x = rng.standard_normal(3)
    y = rng.standard_normal(3)
    gx, gy = wg.gradient(lambda x, y: np.sum(x * y), x, y)
    np.testing.assert_allclose(gx, y)
    np.testing.assert_allclose(gy, x)


def test_withgradient_returns_value(rng):
    x = rng.standard_normal(4)
    value, (g,) = wg.withgradient(lambda x: np.sum(np.sin(x)), x)
    assert value == pytest.approx(np.sum(np.sin(x)))
    np.testing.assert_allclose(g, np.cos(x))


def test_pullback_back_can_be_called_many_times(rng):
    x = rng.standard_normal(3)
    y, back = wg.pullback(lambda x: np.sin(x) * 2, x)
    np.testing.assert_allclose(y, 2 * np.sin(x))
    first = back(np.ones(3))[0]
    second = back(np.ones(3))[0]
    np.testing.assert_allclose(first, 2 * np.cos(x))
    np.testing.assert_allclose(second, first)
    np.testing.assert_allclose(back(np.arange(3.0))[0], 2 * np.cos(x) * np.arange(3.0))


def test_grad_argnums(rng):
    f = lambda x, y: np.sum(x ** 2 * y)
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(wg.grad(f)(x, y), 2 * x * y)
    gx, gy = wg.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gy, x ** 2)


def test_jacobian_reverse(rng):
    a = rng.standard_normal((2, 3))
    x = rng.standard_normal(3)
    (jac,) = wg.jacobian(lambda x: a @ np.sin(x), x)
    np.testing.assert_allclose(jac, a * np.cos(x))


def test_second_derivative_reverse_over_reverse():
    d2 = wg.gradient(lambda x: wg.gradient(lambda y: y ** 3, x)[0], 2.0)[0]
    assert d2 == pytest.approx(12.0)


def test_gradient_of_nonscalar_output_is_an_error(rng):
    with pytest.raises(wg.DifferentiationError, match="scalar"):
        wg.gradient(lambda x: x * 2, rng.standard_normal(3))
