"""Forward mode on complex arguments follows reverse mode's conventions (docs/conventions.md):
for a real output, a coordinate's column is the gradient direction ∂/∂Re z + i ∂/∂Im z;
for a complex output w it is ∂w/∂z + conj(∂w/∂z̄) (f'(z) for a holomorphic f). Forward
Jacobians, partials and derivatives equal reverse Jacobians, also for non-holomorphic
functions, and match finite differences along Re z and Im z."""
import numpy as np
import pytest

import wengert as wg

Z = np.array([1.0 + 1.0j, 0.5 - 2.0j, -0.3 + 0.2j])

FUNCTIONS = {   # name: (f, real output?)
    "abs^2": (lambda z: np.abs(z) ** 2, True),
    "real": (np.real, True),
    "imag": (np.imag, True),
    "angle": (np.angle, True),
    "sum |z|^3": (lambda z: np.sum(np.abs(z) ** 3), True),
    "exp (holomorphic)": (np.exp, False),
    "z^2 sin z (holomorphic)": (lambda z: z ** 2 * np.sin(z), False),
    "conj": (np.conjugate, False),
    "i conj": (lambda z: 1j * np.conjugate(z), False),
    "z |z|": (lambda z: z * np.abs(z), False),
    "mixed": (lambda z: np.sin(z) * np.conjugate(z) ** 2 + np.abs(z), False),
    "outer": (lambda z: np.outer(z, np.conjugate(z)), False),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_forward_jacobian_equals_reverse_jacobian(name):
    f, _ = FUNCTIONS[name]
    forward = wg.jacobian(f, Z, mode="forward")[0]
    reverse = wg.jacobian(f, Z)[0]
    assert forward.shape == reverse.shape
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-14)


def _wirtinger_by_finite_differences(f, z, k, eps=1e-6):
    """∂w/∂z and ∂w/∂z̄ of coordinate k, from central differences along Re and Im."""
    e = np.zeros_like(z)
    e[k] = 1.0
    along_re = (f(z + eps * e) - f(z - eps * e)) / (2 * eps)
    along_im = (f(z + 1j * eps * e) - f(z - 1j * eps * e)) / (2 * eps)
    return (along_re - 1j * along_im) / 2, (along_re + 1j * along_im) / 2


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_forward_jacobian_is_the_documented_convention(name):
    f, real_output = FUNCTIONS[name]
    jac = wg.jacobian(f, Z, mode="forward")[0]
    for k in range(Z.size):
        dz, dzbar = _wirtinger_by_finite_differences(f, Z, k)
        expected = 2 * np.conjugate(dz) if real_output else dz + np.conjugate(dzbar)
        np.testing.assert_allclose(jac[..., k], expected, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_partial_is_the_jacobian_column(name):
    f, _ = FUNCTIONS[name]
    jac = wg.jacobian(f, Z)[0]
    for k in range(Z.size):
        np.testing.assert_allclose(wg.partial(f, Z, index=k), jac[..., k], rtol=1e-12,
                                   atol=1e-14)


def test_partial_of_a_real_function_is_the_gradient_element():
    f = lambda z: np.sum(np.abs(z) ** 2)   # noqa: E731 - gradient 2z
    assert wg.partial(f, Z, index=1) == pytest.approx(2 * Z[1], rel=1e-14)
    assert wg.partial(lambda z: np.abs(z) ** 2, 1 + 1j) == pytest.approx(2 + 2j, rel=1e-14)
    assert type(wg.partial(lambda z: np.abs(z) ** 2, 1 + 1j)) is complex


@pytest.mark.parametrize("name", ["abs^2", "conj", "i conj", "mixed", "exp (holomorphic)"])
def test_derivative_of_a_complex_scalar_is_the_jacobian(name):
    f, _ = FUNCTIONS[name]
    z = 0.4 - 0.7j
    np.testing.assert_allclose(wg.derivative(f, z), wg.jacobian(f, z)[0], rtol=1e-12)


def test_jacobian_of_abs_squared_has_the_imaginary_direction():
    z = np.array([1 + 1j])
    np.testing.assert_array_equal(
        wg.jacobian(lambda z: np.abs(z) ** 2, z, mode="forward")[0], [[2 + 2j]])


def test_complex_float32_keeps_its_precision():
    z = Z.astype(np.complex64)
    jac = wg.jacobian(lambda z: z * np.abs(z), z, mode="forward")[0]
    assert jac.dtype == np.complex64
    np.testing.assert_allclose(jac, wg.jacobian(lambda z: z * np.abs(z), z)[0], rtol=1e-5)


def test_nested_forward_jacobian_of_a_complex_function():
    # A Jacobian column inside a reverse-mode gradient of a real parameter.
    f = lambda s: np.sum(np.abs(wg.jacobian(lambda z: s * z * np.abs(z), Z,   # noqa: E731
                                             mode="forward")[0]) ** 2)
    eps = 1e-6
    fd = (f(1.0 + eps) - f(1.0 - eps)) / (2 * eps)
    assert wg.gradient(f, 1.0)[0] == pytest.approx(fd, rel=1e-7)


def test_hessian_of_complex_argument_is_refused_with_the_way_out():
    with pytest.raises(wg.DifferentiationError, match="real coordinates"):
        wg.hessian(lambda z: np.sum(np.abs(z) ** 2), Z)
    # The way out the message names gives the full real Hessian.
    f = lambda z: np.sum(np.abs(z) ** 2 * np.imag(z))   # noqa: E731
    v = np.stack([Z.real, Z.imag])
    h = wg.hessian(lambda v: f(v[0] + 1j * v[1]), v)
    assert h.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(h.reshape(6, 6), h.reshape(6, 6).T, atol=1e-12)
