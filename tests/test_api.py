"""The reverse-mode and combined transformations (docs/api.md): gradient, withgradient,
pullback, grad, jacobian."""
import dataclasses

import numpy as np
import pytest

import wengert as wg


@dataclasses.dataclass
class Pair:
    vector: np.ndarray
    total: float


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


# ---------------------------------------------------------------------------------------------
# Arguments of every kind: the gradient has the argument's type, dtype and shape
# ---------------------------------------------------------------------------------------------

def assert_like(g, expected):
    """``g`` equals ``expected`` and has exactly its type, shape and dtype."""
    assert type(g) is type(expected), f"{type(g).__name__} != {type(expected).__name__}"
    if isinstance(expected, (np.ndarray, np.generic)):
        assert g.shape == expected.shape and g.dtype == expected.dtype
    rtol = 1e-5 if np.result_type(expected) in (np.float32, np.complex64) else 1e-12
    np.testing.assert_allclose(g, expected, rtol=rtol)


A32 = np.arange(6.0, dtype=np.float32).reshape(2, 3)
Z = np.array([1 + 2j, -0.5j, 3.0])
T3 = np.arange(24.0).reshape(2, 3, 4) / 10

# (id, argument, scalar function, its gradient at the argument, with the argument's type)
ARGUMENT_CASES = [
    ("python float", 1.5, lambda x: x ** 3, 3 * 1.5 ** 2),
    ("python complex", 1 + 2j, lambda z: np.abs(z) ** 2, 2 + 4j),
    ("python complex holomorphic", 1 + 2j, lambda z: np.real(z * z), 2 * (1 - 2j)),
    ("np.float64", np.float64(1.5), lambda x: x * x, np.float64(3.0)),
    ("np.float32", np.float32(1.5), lambda x: x * x, np.float32(3.0)),
    ("np.float16", np.float16(1.5), lambda x: x * x, np.float16(3.0)),
    ("np.complex128", np.complex128(1 - 1j), lambda z: np.real(z * np.conj(z)),
     np.complex128(2 - 2j)),
    ("np.complex64", np.complex64(1 - 1j), lambda z: np.abs(z) ** 2, np.complex64(2 - 2j)),
    ("0-d float64", np.array(1.5), lambda x: x * x, np.array(3.0)),
    ("0-d float32", np.array(1.5, np.float32), lambda x: np.sin(x),
     np.asarray(np.cos(np.float32(1.5)))),
    ("0-d complex", np.array(1 + 1j), lambda z: np.abs(z) ** 2, np.array(2 + 2j)),
    ("1-d", np.arange(3.0), lambda x: np.sum(x * x), 2 * np.arange(3.0)),
    ("2-d float32", A32, lambda x: np.sum(np.exp(x / 8)), np.exp(A32 / 8) / 8),
    ("3-d", T3, lambda x: np.sum(np.sin(x)), np.cos(T3)),
    ("complex array", Z, lambda z: np.sum(np.abs(z) ** 2), 2 * Z),
    ("complex64 array", Z.astype(np.complex64), lambda z: np.sum(np.real(z) * np.imag(z)),
     (Z.imag + 1j * Z.real).astype(np.complex64)),
]


@pytest.mark.parametrize("x, f, expected", [c[1:] for c in ARGUMENT_CASES],
                         ids=[c[0] for c in ARGUMENT_CASES])
def test_gradient_has_the_type_of_its_argument(x, f, expected):
    (g,) = wg.gradient(f, x)
    assert_like(g, expected)


@pytest.mark.parametrize("constant", [3, True, False, "name", None, np.int64(2), np.bool_(True)],
                         ids=repr)
def test_arguments_without_tangent_get_none(constant):
    gx, gc = wg.gradient(lambda x, c: x * 2.0, 1.5, constant)
    assert gc is None
    assert gx == 2.0


class _Opaque:
    """A class wengert cannot take apart."""

    def __init__(self):
        self.w = np.ones(2)


@pytest.mark.parametrize("argument, message", [
    (np.arange(3), "argument 1 is an array of dtype int64"),
    (np.array([True, False]), "argument 1 is an array of dtype bool"),
    (_Opaque(), "argument 1 is a .*_Opaque, which wengert cannot take apart"),
], ids=["int array", "bool array", "object"])
@pytest.mark.parametrize("transform", ["gradient", "withgradient", "jacobian",
                                       "value_and_grad", "grad"])
def test_an_argument_that_cannot_carry_a_gradient_is_named(argument, message, transform):
    f = lambda x, c: x * 2.0   # noqa: E731
    call = {"gradient": lambda: wg.gradient(f, 1.5, argument),
            "withgradient": lambda: wg.withgradient(f, 1.5, argument),
            "jacobian": lambda: wg.jacobian(f, 1.5, argument),
            "value_and_grad": lambda: wg.value_and_grad(f, argnums=(0, 1))(1.5, argument),
            "grad": lambda: wg.grad(f, argnums=(0, 1))(1.5, argument)}[transform]
    with pytest.raises(wg.DifferentiationError, match=message):
        call()


def test_pullback_takes_index_arrays_and_settings_objects_and_gives_them_none():
    y, back = wg.pullback(lambda x, idx, settings: x[idx] * settings.w, np.ones(3),
                          np.array([0, 2]), _Opaque())
    gx, gidx, gsettings = back(np.ones(2))
    np.testing.assert_array_equal(gx, [1.0, 0.0, 1.0])
    assert gidx is None and gsettings is None


def test_integer_data_is_fine_where_it_is_not_differentiated():
    labels = np.array([0, 1, 1])
    loss = lambda w, labels: np.sum(w[labels])   # noqa: E731
    np.testing.assert_array_equal(wg.grad(loss)(np.ones(2), labels), [1.0, 2.0])
    (g,) = wg.gradient(lambda w: loss(w, labels), np.ones(2))
    np.testing.assert_array_equal(g, [1.0, 2.0])
    # inside a structure an integer array keeps the gradient None
    (g,) = wg.gradient(lambda m: np.sum(m["w"][m["idx"]]), {"w": np.ones(2), "idx": labels})
    assert g["idx"] is None


def test_int_argument_mixes_with_float():
    g = wg.gradient(lambda x, n: x ** n + n * x, 2.0, 3)
    assert g == (3 * 4.0 + 3, None)


class Tagged(np.ndarray):
    """An ndarray subclass that must survive differentiation."""


def test_ndarray_subclass_gets_a_gradient_of_its_class():
    x = np.arange(1.0, 4.0).view(Tagged)
    (g,) = wg.gradient(lambda x: np.sum(x * x), x)
    assert type(g) is Tagged
    np.testing.assert_allclose(np.asarray(g), 2 * np.arange(1.0, 4.0))
    (g,) = wg.gradient(lambda x, y: np.sum(y), 1.0, x)[1:]
    assert type(g) is Tagged


@pytest.mark.parametrize("x", [0.7, np.float64(0.7), np.array([0.7, -1.2]),
                               np.array([0.7, -1.2], np.float32)], ids=repr)
def test_real_input_through_complex_intermediates_gets_a_real_gradient(x):
    # Re(e^{ix}·x) = x cos x, and |x e^{ix}|² = x²: complex in the middle, real at both ends.
    f = lambda x: np.sum(np.real(np.exp(1j * x) * x) + np.abs(x * np.exp(1j * x)) ** 2)
    (g,) = wg.gradient(f, x)
    expected = np.cos(x) - x * np.sin(x) + 2 * x
    assert np.result_type(g).kind == "f"
    assert type(g) is type(x)
    np.testing.assert_allclose(g, expected, rtol=1e-5)


@pytest.mark.parametrize("unused, zero", [
    (2.5, 0.0), (1j, 0j), (np.float32(2), np.float32(0)), (np.array(2.0), np.array(0.0)),
    (np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)),
    (np.ones(2, np.complex128), np.zeros(2, np.complex128)),
], ids=repr)
def test_unused_input_gets_zeros(unused, zero):
    gx, gu = wg.gradient(lambda x, u: x * x, 3.0, unused)
    assert gx == 6.0
    assert_like(gu, zero)


def test_unused_tree_gets_zeros_in_its_structure():
    unused = {"a": [1.0, np.ones(2)], "b": 3, "c": (np.float32(1),)}
    _, g = wg.gradient(lambda x, u: x, 3.0, unused)
    assert g["b"] is None
    assert_like(g["a"][0], 0.0)
    assert_like(g["a"][1], np.zeros(2))
    assert_like(g["c"][0], np.float32(0))


def test_output_independent_of_input():
    assert wg.gradient(lambda x: 3.0, 2.0) == (0.0,)
    assert_like(wg.gradient(lambda x: np.sum(np.ones(3)), np.ones(2))[0], np.zeros(2))


def test_output_is_the_input():
    assert wg.gradient(lambda x: x, 2.0) == (1.0,)


# ---------------------------------------------------------------------------------------------
# pullback with structured outputs and cotangents
# ---------------------------------------------------------------------------------------------

def _tree_function(x, y):
    return {"product": x * y, "pair": (x ** 2, np.sin(y)), "label": "constant", "n": 3}


def test_pullback_with_tree_output_and_tree_cotangent(rng):
    x, y = 1.5, rng.standard_normal(3)
    value, back = wg.pullback(_tree_function, x, y)
    assert value["label"] == "constant" and value["n"] == 3
    np.testing.assert_allclose(value["pair"][1], np.sin(y))
    u, w = rng.standard_normal(3), rng.standard_normal(3)
    cotangent = {"product": u, "pair": (2.0, w), "label": None, "n": None}
    gx, gy = back(cotangent)
    assert type(gx) is float
    assert gx == pytest.approx(np.sum(u * y) + 2.0 * 2 * x)
    np.testing.assert_allclose(gy, u * x + w * np.cos(y))


def test_pullback_zero_cotangent_for_some_outputs(rng):
    x, y = 1.5, rng.standard_normal(3)
    _, back = wg.pullback(_tree_function, x, y)
    w = rng.standard_normal(3)
    cotangent = {"product": wg.Zero(), "pair": (wg.Zero(), w), "label": None, "n": None}
    gx, gy = back(cotangent)
    assert_like(gx, 0.0)
    np.testing.assert_allclose(gy, w * np.cos(y))


def test_pullback_all_zero_cotangent_gives_zeros():
    _, back = wg.pullback(lambda x: (x * 2, x * 3), np.ones(2))
    assert_like(back((wg.Zero(), wg.Zero()))[0], np.zeros(2))
    assert_like(back((None, np.ones(2)))[0], 3 * np.ones(2))


def test_pullback_cotangent_with_the_wrong_structure_is_an_error():
    _, back = wg.pullback(lambda x: (x * 2, x * 3), 1.0)
    with pytest.raises(wg.DifferentiationError, match="structure"):
        back(1.0)


@pytest.mark.parametrize("cotangent", [np.ones(2), 1.0, np.ones((2, 3))], ids=repr)
def test_pullback_cotangent_with_the_wrong_shape_is_an_error(cotangent):
    _, back = wg.pullback(np.sin, np.ones(3))
    with pytest.raises(wg.DifferentiationError, match="shape"):
        back(cotangent)


def test_pullback_accepts_a_one_hot_cotangent(rng):
    a = rng.standard_normal((2, 3))
    x = rng.standard_normal(3)
    _, back = wg.pullback(lambda x: a @ np.sin(x), x)
    np.testing.assert_allclose(back(wg.OneHot(1, (2,)))[0], a[1] * np.cos(x))


def test_pullback_of_dataclass_output():
    value, back = wg.pullback(lambda x: Pair(x * 2, np.sum(x)), np.arange(3.0))
    assert isinstance(value, Pair)
    (g,) = back(Pair(np.ones(3), 2.0))
    np.testing.assert_allclose(g, 4 * np.ones(3))


# ---------------------------------------------------------------------------------------------
# jacobian
# ---------------------------------------------------------------------------------------------

SHAPES = [(), (3,), (2, 3)]


@pytest.mark.parametrize("x_shape", SHAPES, ids=str)
@pytest.mark.parametrize("y_shape", SHAPES + [(1, 2, 2)], ids=str)
def test_jacobian_shape_is_output_shape_then_input_shape(x_shape, y_shape, rng):
    x, w = rng.standard_normal(x_shape), rng.standard_normal(x_shape)
    c = rng.standard_normal(y_shape)
    # y = c · Σ w sin(x): the Jacobian is the outer product of c and w cos(x).
    (jac,) = wg.jacobian(lambda x: c * np.sum(w * np.sin(x)), x)
    assert jac.shape == y_shape + x_shape
    np.testing.assert_allclose(jac, np.multiply.outer(c, w * np.cos(x)))


def test_jacobian_elementwise_is_diagonal(rng):
    x = rng.standard_normal((2, 3))
    (jac,) = wg.jacobian(np.sin, x)
    expected = np.zeros((2, 3, 2, 3))
    for i, j in np.ndindex(2, 3):
        expected[i, j, i, j] = np.cos(x[i, j])
    np.testing.assert_allclose(jac, expected)


def test_jacobian_of_several_and_tree_arguments(rng):
    a, b = rng.standard_normal(2), rng.standard_normal(3)
    args = {"a": a, "s": 1.5, "n": 4}
    jac_tree, jac_b = wg.jacobian(lambda d, b: d["s"] * d["a"][:, None] * b * d["n"], args, b)
    assert jac_tree["n"] is None
    assert jac_tree["a"].shape == (2, 3, 2)
    assert jac_tree["s"].shape == (2, 3)
    assert jac_b.shape == (2, 3, 3)
    np.testing.assert_allclose(jac_tree["s"], 4 * a[:, None] * b)
    np.testing.assert_allclose(jac_tree["a"], 4 * 1.5 * np.einsum("ik,j->ijk", np.eye(2), b))
    np.testing.assert_allclose(jac_b, 4 * 1.5 * np.einsum("i,jk->ijk", a, np.eye(3)))


def test_jacobian_keeps_float32(rng):
    x = rng.standard_normal(3).astype(np.float32)
    (jac,) = wg.jacobian(lambda x: x * 2, x)
    assert jac.dtype == np.float32
    np.testing.assert_allclose(jac, 2 * np.eye(3))


def test_jacobian_of_tree_output_is_an_error():
    with pytest.raises(wg.DifferentiationError):
        wg.jacobian(lambda x: (x, x), 2.0)


def test_jacobian_unknown_mode_is_an_error():
    with pytest.raises(ValueError, match="mode"):
        wg.jacobian(np.sin, 1.0, mode="sideways")


# ---------------------------------------------------------------------------------------------
# gradient's contract on outputs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("f", [lambda x: x * 1j, lambda x: (x, x), lambda x: [x]],
                         ids=["complex", "tuple", "list"])
def test_gradient_needs_one_real_scalar(f):
    with pytest.raises(wg.DifferentiationError, match="scalar"):
        wg.gradient(f, 2.0)


def test_grad_argnums_values(rng):
    f = lambda x, n, y: np.sum(x ** n * y)
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(wg.grad(f, argnums=2)(x, 2, y), x ** 2)
    gx, gy = wg.grad(f, argnums=(0, 2))(x, 2, y)
    np.testing.assert_allclose(gx, 2 * x * y)
    np.testing.assert_allclose(gy, x ** 2)


def test_gradients_are_writeable_arrays_of_their_own():
    # The cotangent of a sum is a broadcast view; the user must get an ordinary array.
    (g,) = wg.gradient(np.sum, np.ones(3))
    assert g.flags.writeable and g.strides == (8,)
    g[0] = 5.0
    (h,) = wg.gradient(np.sum, np.ones(3))
    np.testing.assert_array_equal(h, np.ones(3))


@pytest.mark.parametrize("f, x", [
    (lambda z: np.exp(z) * z, np.array([1 + 2j, 0.5 - 1j])),        # holomorphic
    (lambda x: np.exp(1j * x) * x, np.array([0.3, 0.7])),            # real in, complex out
])
def test_reverse_and_forward_jacobians_agree_for_complex_functions(f, x):
    (reverse,) = wg.jacobian(f, x)
    (forward,) = wg.jacobian(f, x, mode="forward")
    np.testing.assert_allclose(reverse, forward, atol=1e-12)


def test_reverse_jacobian_of_a_real_output_of_complex_input_follows_the_gradient():
    # Not holomorphic: each row is that output's gradient, ∂/∂Re z + i ∂/∂Im z, as wg.gradient.
    f = lambda z: np.abs(z) ** 2 + z.real
    z = np.array([1 + 2j, -1j])
    (jac,) = wg.jacobian(f, z)
    for k in range(2):
        (g,) = wg.gradient(lambda z: f(z)[k], z)
        np.testing.assert_allclose(jac[k], g)


# --- value_and_grad, has_aux, withgradient of a tuple ----------------------------------------

def _loss_with_aux(x, y):
    return np.sum(np.sin(x) * y), {"mean": np.mean(x), "count": 3}


def test_value_and_grad_and_has_aux_as_in_jax():
    x, y = np.array([0.3, -1.2]), 2.0
    value, g = wg.value_and_grad(lambda x, y: _loss_with_aux(x, y)[0])(x, y)
    assert value == pytest.approx(np.sum(np.sin(x) * y))
    np.testing.assert_allclose(g, np.cos(x) * y)
    (value, aux), (gx, gy) = wg.value_and_grad(_loss_with_aux, argnums=(0, 1), has_aux=True)(x, y)
    assert value == pytest.approx(np.sum(np.sin(x) * y)) and aux["count"] == 3
    assert aux["mean"] == pytest.approx(np.mean(x))
    np.testing.assert_allclose(gx, np.cos(x) * y)
    assert gy == pytest.approx(np.sum(np.sin(x)))
    g, aux = wg.grad(_loss_with_aux, has_aux=True)(x, y)
    np.testing.assert_allclose(g, np.cos(x) * y)
    assert type(aux["mean"]) is np.float64   # a plain value: no tracer escapes


def test_aux_values_are_plain_and_nested_gradients_still_see_through_them():
    # the aux of an inner gradient is a value of the outer level: differentiable there
    def outer(x):
        g, aux = wg.grad(lambda x: (np.sum(x ** 3), np.sum(x ** 2)), has_aux=True)(x)
        return np.sum(g) + aux
    (g,) = wg.gradient(outer, np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, 6 * np.array([1.0, 2.0]) + 2 * np.array([1.0, 2.0]))


def test_has_aux_needs_a_pair():
    with pytest.raises(wg.DifferentiationError, match="pair"):
        wg.grad(lambda x: np.sum(x), has_aux=True)(np.ones(2))


def test_withgradient_of_a_tuple_differentiates_its_first_element_as_zygote_does():
    x = np.array([0.5, 1.5])
    value, (g,) = wg.withgradient(lambda x: (np.sum(x ** 2), x * 3, "label"), x)
    assert value[0] == pytest.approx(2.5) and value[2] == "label"
    np.testing.assert_allclose(value[1], 3 * x)
    np.testing.assert_allclose(g, 2 * x)
    with pytest.raises(wg.DifferentiationError, match="has_aux"):
        wg.gradient(lambda x: (np.sum(x ** 2), x), x)   # gradient itself wants one scalar


def test_withgradient_of_a_tuple_with_params():
    w = np.array([1.0, -2.0])
    ps = wg.Params([w])
    (loss, extra), gs = wg.withgradient(lambda: (np.sum(w ** 2), np.max(w)), ps)
    assert loss == pytest.approx(5.0) and extra == pytest.approx(1.0)
    np.testing.assert_allclose(gs[w], 2 * w)
    np.testing.assert_allclose((gs / 2)[w], w)


def test_hessian_wants_one_scalar_not_a_tuple():
    with pytest.raises(wg.DifferentiationError, match="one real scalar"):
        wg.hessian(lambda x: (np.sum(x ** 2), 1.0), np.ones(2))


def test_ravel_gives_numpy_scalars_back_as_numpy_scalars():
    vector, unravel = wg.ravel({"a": np.float32(2.0), "b": np.ones(2), "c": 1.5})
    back = unravel(vector)
    assert type(back["a"]) is np.float32 and type(back["c"]) is float
    np.testing.assert_array_equal(back["b"], np.ones(2))


def test_the_version_is_the_one_the_package_metadata_states():
    import pathlib
    import re

    pyproject = pathlib.Path(__file__).resolve().parent.parent / "pyproject.toml"
    stated = re.search(r'^version = "([^"]+)"', pyproject.read_text(), re.M).group(1)
    assert wg.__version__ == stated
    assert "__version__" in dir(wg) and "optim" in dir(wg) and "api" not in dir(wg)
