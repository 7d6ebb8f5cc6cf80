"""The forward-mode transformations (docs/api.md): pushforward, jvp, derivative, partial, forward
Jacobians and Hessians (forward over reverse)."""
import collections
import dataclasses

import numpy as np
import pytest

import wengert as wg
from wengert import registry
from wengert.tangents import Indexed


def central_difference(f, args, tangents, eps=1e-6):
    """d/dt f(args + t·tangents) at t = 0 (every leaf shifted along its tangent)."""
    shift = lambda s: f(*(a + s * t for a, t in zip(args, tangents)))
    return (np.asarray(shift(eps)) - np.asarray(shift(-eps))) / (2 * eps)


# ---------------------------------------------------------------------------------------------
# pushforward
# ---------------------------------------------------------------------------------------------

def test_issue_example():
    f = lambda x, y: np.exp(-np.linalg.norm(x - y) ** 2)
    pf = wg.pushforward(f, np.array([1., 2.]), np.array([0., 2.]))
    assert pf(wg.OneHot(0, (2,)), wg.Zero()) == pytest.approx(-0.7357588823428847, rel=1e-14)
    assert pf(wg.Zero(), wg.OneHot(1, (2,))) == 0.0


def test_pushforward_is_linear_in_the_tangents(rng):
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    pf = wg.pushforward(lambda x, y: np.sin(x) * np.exp(y) + x / (1 + y * y), x, y)
    t1, t2, t3, t4 = (rng.standard_normal(4) for _ in range(4))
    np.testing.assert_allclose(pf(2 * t1 + t2, t3 - t4),
                               2 * pf(t1, wg.Zero()) + pf(t2, t3) - pf(wg.Zero(), t4),
                               rtol=1e-12, atol=1e-14)


def test_pushforward_can_be_called_many_times(rng):
    x = rng.standard_normal(3)
    pf = wg.pushforward(lambda x: np.sum(np.sin(x) * x), x)
    for k in range(3):
        assert pf(wg.OneHot(k, (3,))) == pytest.approx(np.cos(x[k]) * x[k] + np.sin(x[k]))


def test_pushforward_matches_finite_differences(rng):
    f = lambda x, y: np.tanh(x * y) / (1 + x ** 2) + np.log1p(y ** 2)
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    tx, ty = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(wg.pushforward(f, x, y)(tx, ty),
                               central_difference(f, (x, y), (tx, ty)), rtol=1e-7, atol=1e-9)


def test_pushforward_of_a_function_ignoring_its_argument_is_zero(rng):
    dy = wg.pushforward(lambda x: np.ones((2, 2)), rng.standard_normal(3))(np.ones(3))
    assert type(dy) is np.ndarray and dy.shape == (2, 2) and not dy.any()


def test_one_hot_tangent_gives_a_dense_plain_array():
    dy = wg.pushforward(lambda x: np.sin(x) * 2, np.arange(4.0))(wg.OneHot(1, (4,)))
    assert type(dy) is np.ndarray and dy.flags.writeable
    np.testing.assert_allclose(dy, [0, 2 * np.cos(1.0), 0, 0])


# ---------------------------------------------------------------------------------------------
# jvp: structured arguments and tangents
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: float
    width: int


Pair = collections.namedtuple("Pair", "first second")


def test_jvp_returns_value_and_tangent(rng):
    x, t = rng.standard_normal(5), rng.standard_normal(5)
    y, dy = wg.jvp(np.exp, (x,), (t,))
    np.testing.assert_allclose(y, np.exp(x))
    np.testing.assert_allclose(dy, np.exp(x) * t)


def test_jvp_of_several_arguments():
    y, dy = wg.jvp(lambda x, y: x * y ** 2, (2.0, 3.0), (1.0, 0.5))
    assert y == 18.0
    assert dy == pytest.approx(9.0 + 2 * 2.0 * 3.0 * 0.5)


def test_jvp_accepts_lists_for_args_and_tangents():
    y, dy = wg.jvp(lambda x, y: x * y, [2.0, 3.0], [1.0, 0.0])
    assert (y, dy) == (6.0, 3.0)


def test_jvp_list_argument():
    y, dy = wg.jvp(lambda p: p[0] * p[1] + p[2], ([2.0, 3.0, np.ones(2)],),
                   ([1.0, 0.5, np.arange(2.0)],))
    np.testing.assert_allclose(y, 7.0)
    np.testing.assert_allclose(dy, 3.0 + 1.0 + np.arange(2.0))


def test_jvp_dict_argument_with_a_zero_entry(rng):
    w = rng.standard_normal(3)
    params = {"w": w, "scale": 2.0}
    y, dy = wg.jvp(lambda p: p["scale"] * np.sin(p["w"]), (params,),
                   ({"w": wg.Zero(), "scale": 1.0},))
    np.testing.assert_allclose(y, 2 * np.sin(w))
    np.testing.assert_allclose(dy, np.sin(w))


def test_jvp_dataclass_argument_with_a_non_differentiable_field(rng):
    layer = Layer(rng.standard_normal(3), 0.5, 3)
    tangent = Layer(np.ones(3), 2.0, None)
    y, dy = wg.jvp(lambda l, x: (l.w * x + l.b) * l.width, (layer, 2.0), (tangent, 0.0))
    np.testing.assert_allclose(y, (layer.w * 2 + 0.5) * 3)
    np.testing.assert_allclose(dy, (np.ones(3) * 2 + 2.0) * 3)


def test_jvp_namedtuple_argument():
    y, dy = wg.jvp(lambda p: p.first * p.second, (Pair(np.arange(3.0), 2.0),),
                   (Pair(np.ones(3), 1.0),))
    np.testing.assert_allclose(dy, 2.0 + np.arange(3.0))


@pytest.mark.parametrize("zero", [wg.Zero(), None], ids=repr)
def test_jvp_zero_for_a_whole_structured_argument(rng, zero):
    layer = Layer(rng.standard_normal(3), 0.5, 3)
    x = rng.standard_normal(3)
    y, dy = wg.jvp(lambda l, x: np.sum(l.w * x) + l.b, (layer, x), (zero, np.ones(3)))
    assert dy == pytest.approx(np.sum(layer.w))


@pytest.mark.parametrize("no_tangent", [None, wg.NoTangent(), wg.Zero()], ids=repr)
def test_jvp_non_differentiable_leaves(no_tangent):
    y, dy = wg.jvp(lambda x, n, flag: x ** n if flag else -x, (2.0, 3, True),
                   (1.0, no_tangent, no_tangent))
    assert (y, dy) == (8.0, 12.0)


def test_jvp_output_structure_is_mirrored(rng):
    x = rng.standard_normal(2)
    f = lambda x: {"sin": np.sin(x), "pair": [x, 2 * x], "count": 3, "const": np.ones(2)}
    y, dy = wg.jvp(f, (x,), (np.ones(2),))
    assert y["count"] == 3 and dy["count"] is None
    np.testing.assert_allclose(dy["sin"], np.cos(x))
    assert type(dy["pair"]) is list
    np.testing.assert_allclose(dy["pair"][1], 2.0)
    np.testing.assert_array_equal(dy["const"], np.zeros(2))


def test_jvp_keeps_float32(rng):
    x = rng.standard_normal(3).astype(np.float32)
    y, dy = wg.jvp(lambda x: np.exp(x) * 2, (x,), (np.ones(3, np.float32),))
    assert dy.dtype == np.float32
    np.testing.assert_allclose(dy, 2 * np.exp(x), rtol=1e-6)


@pytest.mark.parametrize("args, tangents, match", [
    ((np.ones(3),), (np.ones(2),), "shape"),
    ((np.ones(3), 1.0), (np.ones(3),), "one tangent per argument"),
    (([1.0, 2.0],), ([1.0],), "structure"),
    ((np.ones((2, 2)),), (wg.OneHot(0, (4,)),), "shape"),
], ids=["shape", "count", "structure", "one-hot shape"])
def test_jvp_rejects_mismatched_tangents(args, tangents, match):
    f = lambda *a: a[0]
    with pytest.raises(wg.DifferentiationError, match=match):
        wg.jvp(f, args, tangents)


# ---------------------------------------------------------------------------------------------
# derivative
# ---------------------------------------------------------------------------------------------

def test_derivative_scalar_output():
    assert wg.derivative(lambda x: x ** 3 + np.sin(x), 0.5) == pytest.approx(
        3 * 0.25 + np.cos(0.5), rel=1e-14)


def test_derivative_of_python_float_is_float():
    g = wg.derivative(np.sin, 0.5)
    assert type(g) is float and g == pytest.approx(np.cos(0.5))
    assert type(wg.derivative(lambda x: 2.0, 0.5)) is float
    c = wg.derivative(lambda t: np.exp(1j * t), 0.0)
    assert type(c) is complex and c == pytest.approx(1j)


def test_derivative_vector_output():
    c = np.array([1.0, -2.0, 3.0])
    g = wg.derivative(lambda x: c * np.exp(c * x), 0.5)
    np.testing.assert_allclose(g, c * c * np.exp(c * 0.5))


def test_derivative_matrix_output(rng):
    a, b = rng.standard_normal((2, 3, 2))
    g = wg.derivative(lambda t: np.cos(a * t) + b * t ** 2, 1.5)
    assert g.shape == (3, 2)
    np.testing.assert_allclose(g, -a * np.sin(a * 1.5) + 3 * b)


@pytest.mark.parametrize("x", [np.float32(1.5), np.array(1.5, np.float32)],
                         ids=["np.float32", "0-d float32"])
def test_derivative_keeps_float32(x):
    g = wg.derivative(lambda x: x * x, x)
    assert np.result_type(g) == np.float32 and g == 3.0


def test_derivative_of_holomorphic_function_of_complex_scalar():
    z = 0.3 - 0.7j
    g = wg.derivative(lambda z: z ** 3 * np.exp(z), z)
    assert type(g) is complex
    assert g == pytest.approx((3 * z ** 2 + z ** 3) * np.exp(z), rel=1e-13)


def test_derivative_needs_a_scalar():
    with pytest.raises(wg.DifferentiationError, match="scalar"):
        wg.derivative(np.sin, np.ones(2))


# ---------------------------------------------------------------------------------------------
# partial
# ---------------------------------------------------------------------------------------------

def _mixing(x, y):
    return np.sin(x) * np.sum(y ** 2) + np.cumsum(x) if np.ndim(x) == 1 else (
        np.sin(x) * np.sum(y ** 2))


PARTIAL_CASES = [
    # (id, argument, index, flat position)
    ("1-d int", np.array([0.3, -1.2, 2.0]), 1, 1),
    ("1-d tuple", np.array([0.3, -1.2, 2.0]), (2,), 2),
    ("2-d flat int", np.arange(6.0).reshape(2, 3) / 5, 4, 4),
    ("2-d tuple", np.arange(6.0).reshape(2, 3) / 5, (1, 0), 3),
    ("2-d negative flat", np.arange(6.0).reshape(2, 3) / 5, -1, 5),
]


@pytest.mark.parametrize("x, index, flat", [c[1:] for c in PARTIAL_CASES],
                         ids=[c[0] for c in PARTIAL_CASES])
def test_partial_is_one_column_of_the_jacobian(x, index, flat):
    y = np.array([0.5, -1.0])
    f = lambda x, y: np.sin(x) * np.sum(y ** 2) + x ** 3
    (jac,) = wg.jacobian(lambda x: f(x, y), x)
    got = wg.partial(f, x, y, argnum=0, index=index)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, jac.reshape(x.size, x.size)[:, flat].reshape(x.shape))


def test_partial_with_respect_to_a_later_argument(rng):
    x, w = rng.standard_normal(3), rng.standard_normal(3)
    got = wg.partial(lambda x, w: np.sum(np.exp(x * w)), x, w, argnum=1, index=2)
    assert got == pytest.approx(x[2] * np.exp(x[2] * w[2]))


def test_partial_of_a_scalar_argument():
    assert wg.partial(lambda a, b: a * np.sin(b), 2.0, 0.5, argnum=1) == pytest.approx(
        2 * np.cos(0.5))
    g = wg.partial(lambda a: a * a, np.array(3.0))
    assert np.shape(g) == () and g == 6.0


def test_partial_of_python_float_is_float():
    g = wg.partial(lambda a, b: a * b, 2.0, 3.0, argnum=0)
    assert type(g) is float and g == 3.0


def test_partial_needs_an_index_for_arrays():
    with pytest.raises(wg.DifferentiationError, match="index"):
        wg.partial(np.sin, np.ones(3))


def test_partial_keeps_its_tangent_sparse(rng):
    # A library-style forward rule (the masked kind) sees the tangent exactly as it arrives:
    # after elementwise operations, one partial derivative is still an ``Indexed`` tangent.
    from wengert.rules._helpers import forward as library_forward

    seen = []

    @wg.primitive
    def probe(x):
        return x

    @library_forward(probe)
    def _probe_forward(tangents, x):
        seen.append(tangents[0])
        return x, tangents[0]

    x = rng.standard_normal(1000)
    got = wg.partial(lambda x: probe(np.exp(np.sin(x) * 3 + x)) * 2, x, index=17)
    assert isinstance(seen[0], Indexed) and seen[0].index == (17,)
    expected = np.zeros(1000)
    expected[17] = 2 * np.exp(np.sin(x[17]) * 3 + x[17]) * (3 * np.cos(x[17]) + 1)
    np.testing.assert_allclose(got, expected)


# ---------------------------------------------------------------------------------------------
# Jacobians: forward (column by column) equals reverse (row by row)
# ---------------------------------------------------------------------------------------------

_A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])

# (id, f, argument makers)
JACOBIAN_CASES = [
    ("scalar to scalar", lambda x: np.sin(x) * x, [lambda r: 0.7]),
    ("0-d to 0-d", lambda x: np.exp(x), [lambda r: np.array(0.3)]),
    ("vector elementwise", lambda x: np.tanh(x) * x, [lambda r: r.standard_normal(4)]),
    ("vector to scalar", lambda x: np.sum(np.exp(x)), [lambda r: r.standard_normal(5)]),
    ("matrix to matrix", lambda x: np.sin(x).T * 2, [lambda r: r.standard_normal((2, 3))]),
    ("matrix to vector", lambda x: np.sum(x ** 2, axis=0), [lambda r: r.standard_normal((3, 2))]),
    ("vector to matrix", lambda x: np.reshape(x ** 3, (2, 3)), [lambda r: r.standard_normal(6)]),
    ("broadcast", lambda x: _A * np.cos(x), [lambda r: r.standard_normal(3)]),
    ("two arguments", lambda x, y: np.exp(x) * y + x / (1 + y * y),
     [lambda r: r.standard_normal(3), lambda r: r.standard_normal(3)]),
    ("scalar and vector", lambda a, v: np.exp(a * v),
     [lambda r: 0.4, lambda r: r.standard_normal(3)]),
    ("matmul", lambda x: _A @ np.sin(x), [lambda r: r.standard_normal(3)]),
    ("matrix product", lambda m: m @ m.T, [lambda r: r.standard_normal((2, 3))]),
    ("indexing", lambda x: x[1:] * x[:-1], [lambda r: r.standard_normal(4)]),
    ("float32", lambda x: np.exp(x) * x, [lambda r: r.standard_normal(3).astype(np.float32)]),
]


@pytest.mark.parametrize("f, makers", [c[1:] for c in JACOBIAN_CASES],
                         ids=[c[0] for c in JACOBIAN_CASES])
def test_forward_jacobian_equals_reverse_jacobian(f, makers, rng):
    args = [make(rng) for make in makers]
    forward = wg.jacobian(f, *args, mode="forward")
    reverse = wg.jacobian(f, *args, mode="reverse")
    y_shape = np.shape(f(*args))
    assert len(forward) == len(args)
    for jf, jr, x in zip(forward, reverse, args):
        assert np.shape(jf) == y_shape + np.shape(x)
        rtol = 1e-5 if np.result_type(x) == np.float32 else 1e-12
        np.testing.assert_allclose(jf, jr, rtol=rtol, atol=1e-12)


def test_forward_jacobian_matches_finite_differences(rng):
    x = rng.standard_normal((2, 2))
    f = lambda x: np.exp(x) / (1 + np.sum(x * x))
    (jac,) = wg.jacobian(f, x, mode="forward")
    for k in range(4):
        unit = np.zeros(4)
        unit[k] = 1
        np.testing.assert_allclose(jac.reshape(2, 2, 4)[..., k],
                                   central_difference(f, (x,), (unit.reshape(2, 2),)),
                                   rtol=1e-7, atol=1e-9)


def test_forward_jacobian_of_a_holomorphic_function_is_its_complex_derivative():
    z = np.array([1 + 1j, 2 - 1j, -0.5j])
    (jac,) = wg.jacobian(lambda z: z ** 2 * np.exp(z), z, mode="forward")
    np.testing.assert_allclose(jac, np.diag((2 * z + z ** 2) * np.exp(z)), rtol=1e-13)


def test_forward_jacobian_of_a_non_differentiable_argument_is_none(rng):
    jac_x, jac_n = wg.jacobian(lambda x, n: x ** n, rng.standard_normal(3), 2, mode="forward")
    assert jac_n is None and jac_x.shape == (3, 3)


def test_jacobian_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        wg.jacobian(np.sin, np.ones(2), mode="sideways")


# ---------------------------------------------------------------------------------------------
# Hessians: forward over reverse, against finite differences
# ---------------------------------------------------------------------------------------------

def finite_difference_hessian(f, x, eps=1e-4):
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    h = np.empty((n, n))
    units = np.eye(n).reshape((n,) + x.shape) * eps
    for i in range(n):
        for j in range(n):
            h[i, j] = (f(x + units[i] + units[j]) - f(x + units[i] - units[j])
                       - f(x - units[i] + units[j]) + f(x - units[i] - units[j])) / (4 * eps ** 2)
    return h.reshape(x.shape + x.shape)


def _rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


HESSIAN_CASES = [
    ("vector", lambda x: np.sum(np.sin(x) * x ** 2) + np.sum(x) ** 2, (4,)),
    ("matrix", lambda m: np.sum(np.exp(m) * m.T) + np.sum(m) ** 3 / 10, (3, 3)),
    ("0-d", lambda x: np.exp(x) * np.sin(x), ()),
    ("rosenbrock", _rosenbrock, (4,)),
    ("matmul", lambda m: np.sum((m @ m) ** 2), (2, 2)),
]


@pytest.mark.parametrize("f, shape", [c[1:] for c in HESSIAN_CASES],
                         ids=[c[0] for c in HESSIAN_CASES])
def test_hessian_matches_finite_differences(f, shape, rng):
    x = rng.standard_normal(shape) * 0.7
    h = wg.hessian(f, x)
    assert np.shape(h) == shape + shape
    np.testing.assert_allclose(h, finite_difference_hessian(f, x), rtol=1e-5, atol=1e-5)


def test_hessian_of_a_python_float():
    h = wg.hessian(lambda x: x ** 4 - np.cos(x), 0.5)
    assert type(h) is float and h == pytest.approx(12 * 0.25 + np.cos(0.5), rel=1e-12)


def test_hessian_is_symmetric_and_equals_reverse_over_reverse(rng):
    f = lambda x: np.sum(np.tanh(x) * x[::-1]) + np.prod(x)
    x = rng.standard_normal(4)
    h = wg.hessian(f, x)
    (h_rr,) = wg.jacobian(lambda x: wg.gradient(f, x)[0], x)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h, h_rr, rtol=1e-12, atol=1e-14)


def test_hessian_of_a_quadratic_form_is_exact(rng):
    a = rng.standard_normal((3, 3))
    h = wg.hessian(lambda x: x @ a @ x, rng.standard_normal(3))
    np.testing.assert_allclose(h, a + a.T, rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# Complex numbers: the plain chain rule, dy = f'(z)·dz, and real-linear maps otherwise
# ---------------------------------------------------------------------------------------------

_W = np.array([0.5 - 1j, 2 + 0.5j, -1j])

COMPLEX_CASES = [
    # (id, f, holomorphic derivative or None)
    ("exp", np.exp, np.exp),
    ("square", lambda z: z ** 2, lambda z: 2 * z),
    ("times w", lambda z: z * _W, lambda z: _W),
    ("z over w", lambda z: z / _W + np.sin(z), lambda z: 1 / _W + np.cos(z)),
    ("abs", np.abs, None),
    ("abs squared", lambda z: np.abs(z) ** 2, None),
    ("conj", np.conj, None),
    ("real", np.real, None),
    ("imag times z", lambda z: np.imag(z) * z, None),
    ("angle", np.angle, None),
]


@pytest.mark.parametrize("direction", ["1", "i", "random"])
@pytest.mark.parametrize("f, df", [c[1:] for c in COMPLEX_CASES],
                         ids=[c[0] for c in COMPLEX_CASES])
def test_complex_jvp_matches_finite_differences(f, df, direction, rng):
    z = np.array([0.3 + 0.4j, -1.1 + 0.2j, 0.7 - 0.9j])
    dz = {"1": np.ones(3, complex), "i": 1j * np.ones(3),
          "random": rng.standard_normal(3) + 1j * rng.standard_normal(3)}[direction]
    y, dy = wg.jvp(f, (z,), (dz,))
    np.testing.assert_allclose(y, f(z))
    np.testing.assert_allclose(dy, central_difference(f, (z,), (dz,)), rtol=1e-7, atol=1e-9)
    assert np.iscomplexobj(dy) == np.iscomplexobj(f(z))
    if df is not None:
        np.testing.assert_allclose(dy, df(z) * dz, rtol=1e-13)


def test_jvp_of_a_function_of_two_complex_arguments():
    z, w = 0.5 + 1j, -0.3 + 0.2j
    dz, dw = 1 - 1j, 0.5j
    _, dy = wg.jvp(lambda z, w: z * w + np.exp(z * w), (z, w), (dz, dw))
    assert dy == pytest.approx((w + w * np.exp(z * w)) * dz + (z + z * np.exp(z * w)) * dw)


def test_real_argument_complex_output():
    _, dy = wg.jvp(lambda t: np.exp(1j * t) * t, (0.4,), (1.0,))
    assert dy == pytest.approx(1j * np.exp(0.4j) * 0.4 + np.exp(0.4j))


# ---------------------------------------------------------------------------------------------
# Rules that hand their work to forward mode, and errors
# ---------------------------------------------------------------------------------------------

def test_a_forward_rule_may_use_pushforward_itself():
    @wg.primitive
    def softplus(x):
        return np.log1p(np.exp(x))

    @wg.frule(softplus)
    def _softplus_forward(dx, x):
        return softplus(x), wg.pushforward(lambda v: np.log1p(np.exp(v)), x)(dx)

    x = np.array([-1.0, 0.5, 2.0])
    _, dy = wg.jvp(softplus, (x,), (np.ones(3),))
    np.testing.assert_allclose(dy, 1 / (1 + np.exp(-x)))
    # ... and it nests: the rule's own pushforward is differentiated by the outer level.
    d2 = wg.derivative(lambda t: wg.derivative(softplus, t), 0.5)
    s = 1 / (1 + np.exp(-0.5))
    assert d2 == pytest.approx(s * (1 - s))


def test_missing_forward_rule_names_the_function_and_the_way_out(monkeypatch):
    # np.sin without its forward rule: the reverse rule alone must not be used silently.
    monkeypatch.delitem(registry.forward_rules.entries, np.sin)
    monkeypatch.delitem(registry.forward_rules.generic, np.sin)
    monkeypatch.setattr(registry.forward_rules, "cache", {})
    with pytest.raises(wg.DifferentiationError) as info:
        wg.derivative(lambda x: np.sin(x) * 2, 0.5)
    message = str(info.value)
    assert "np.sin" in message and "forward" in message
    assert "wg.frule" in message and "wg.primitive" in message
    # Reverse mode is unaffected.
    assert wg.gradient(np.sin, 0.5)[0] == pytest.approx(np.cos(0.5))


def test_function_with_no_rule_at_all_in_forward_mode():
    # A function wengert has no rule for, in either mode, is an error too (never a constant).
    # Every public NumPy function has a rule, a definition or a refusal (rules/census.py);
    # a ufunc made by np.frompyfunc has none.
    doubled = np.frompyfunc(lambda t: 2 * t, 1, 1)
    assert doubled not in registry.forward_rules.entries
    with pytest.raises(wg.DifferentiationError, match=r"no forward-mode rule .*np\.<lambda>"):
        wg.derivative(lambda x: doubled(np.stack([x, x])), 0.5)


# --- arguments with no tangent, lists, functions with no tangent --------------------------------

def test_partial_and_derivative_of_an_int_argument_are_none_as_in_gradient():
    f = lambda x, n: x ** n   # noqa: E731
    assert wg.gradient(f, 2.0, 3)[1] is None
    assert wg.partial(f, 2.0, 3, argnum=1) is None
    assert wg.partial(lambda x: x * 2.0, np.array([1, 2]), index=0) is None
    assert wg.derivative(lambda x: x * 2.0, 3) is None
    assert wg.partial(f, 2.0, 3, argnum=0) == pytest.approx(12.0)


def test_hessian_of_a_list_is_over_its_flattened_numbers():
    h = wg.hessian(lambda x: x[0] ** 2 * x[1] + x[1] ** 3, [1.0, 2.0])
    np.testing.assert_allclose(h, [[4.0, 2.0], [2.0, 12.0]])
    h = wg.hessian(lambda p: np.sum(p["a"] ** 2) * p["b"], {"a": np.array([1.0, 2.0]), "b": 3.0})
    np.testing.assert_allclose(h, [[6.0, 0.0, 2.0], [0.0, 6.0, 4.0], [2.0, 4.0, 0.0]])


@pytest.mark.parametrize("f, y_shape", [(lambda x: 0, ()), (lambda x: np.zeros(3, int), (3,))])
def test_forward_jacobian_of_an_output_with_no_tangent_is_zeros(f, y_shape):
    x = np.ones(2, np.float32)
    forward = wg.jacobian(f, x, mode="forward")[0]
    reverse = wg.jacobian(f, x)[0]
    assert forward.shape == reverse.shape == y_shape + (2,)
    assert forward.dtype == reverse.dtype == np.float32 and not forward.any()
    assert wg.jacobian(lambda x: 1.5, x, mode="forward")[0].shape == (2,)


def test_ravel_round_trips_a_model_and_differentiates_through_unravel():
    model = {"W": np.arange(6.0).reshape(2, 3), "b": np.float32(0.5), "n": 3,
             "layers": [1.0, np.array([2.0, 3.0])]}
    v, unravel = wg.ravel(model)
    assert v.shape == (6 + 1 + 1 + 2,)
    back = unravel(v)
    assert back["n"] == 3 and type(back["layers"][0]) is float
    assert back["b"].dtype == np.float32
    np.testing.assert_array_equal(back["W"], model["W"])
    loss = lambda m: np.sum(m["W"] ** 2) * m["b"] + m["layers"][0] * np.sum(m["layers"][1])  # noqa: E731
    g = wg.gradient(lambda v: loss(unravel(v)), v)[0]
    gm = wg.gradient(loss, model)[0]
    np.testing.assert_allclose(g, wg.ravel(gm)[0], rtol=1e-6)


@pytest.mark.parametrize("args, tangents", [(np.ones(2), np.ones(2)), (1.5, 1.0),
                                            ((np.ones(2),), np.ones(2))])
def test_jvp_with_arrays_instead_of_tuples_names_the_expected_form(args, tangents):
    with pytest.raises(wg.DifferentiationError, match=r"wg.jvp\(f, \(x,\), \(t,\)\)"):
        wg.jvp(np.sin, args, tangents)
