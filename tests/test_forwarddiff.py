"""wg.forwarddiff: forward mode for one argument inside a reverse-mode computation, with the
arrays the function closes over still differentiated in reverse."""
import numpy as np
import pytest

import wengert as wg


# (id, inner function of z and the closed-over W, makers of x and W)
CASES = [
    ("tanh(W @ z)", lambda z, W: np.tanh(W @ z),
     lambda r: r.standard_normal(4), lambda r: r.standard_normal((3, 4))),
    ("elementwise", lambda z, W: np.sin(W * z) * z,
     lambda r: r.standard_normal(3), lambda r: r.standard_normal((2, 3))),
    ("scalar output", lambda z, W: np.sum(np.exp(W @ z)),
     lambda r: r.standard_normal(2), lambda r: r.standard_normal((3, 2))),
    ("matrix x", lambda z, W: np.tanh(W @ z),
     lambda r: r.standard_normal((2, 2)), lambda r: r.standard_normal((3, 2))),
    ("scalar x", lambda z, W: np.cos(W * z),
     lambda r: 0.7, lambda r: r.standard_normal(3)),
]


@pytest.mark.parametrize("inner, make_x, make_w", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_gradients_match_plain_reverse_mode(inner, make_x, make_w, rng):
    x, W = make_x(rng), make_w(rng)
    with_forward = lambda x, W: np.sum(wg.forwarddiff(lambda z: inner(z, W), x) ** 2)
    plain = lambda x, W: np.sum(inner(x, W) ** 2)
    value, (gx, gw) = wg.withgradient(with_forward, x, W)
    assert value == pytest.approx(plain(x, W), rel=1e-14)
    ex, ew = wg.gradient(plain, x, W)
    assert type(gx) is type(ex)
    np.testing.assert_allclose(gx, ex, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gw, ew, rtol=1e-12, atol=1e-14)


def test_the_issue_example_shape(rng):
    x, W = rng.standard_normal(4), rng.standard_normal((3, 4))
    gx, gw = wg.gradient(
        lambda x, W: np.sum(wg.forwarddiff(lambda z: np.tanh(W @ z), x) ** 2), x, W)
    t = np.tanh(W @ x)
    back = 2 * t * (1 - t ** 2)
    np.testing.assert_allclose(gx, W.T @ back, rtol=1e-12)
    np.testing.assert_allclose(gw, np.outer(back, x), rtol=1e-12)


def test_implicit_parameters(rng):
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    gs = wg.gradient(lambda: np.sum(wg.forwarddiff(lambda z: np.tanh(W @ z), x) ** 2),
                     wg.Params([W, x]))
    ex, ew = wg.gradient(lambda x, W: np.sum(np.tanh(W @ x) ** 2), x, W)
    np.testing.assert_allclose(gs[W], ew, rtol=1e-12)
    np.testing.assert_allclose(gs[x], ex, rtol=1e-12)


def test_scalar_python_float():
    (g,) = wg.gradient(lambda x: wg.forwarddiff(lambda z: z ** 3 + np.sin(z), x) * 2, 0.5)
    assert type(g) is float and g == pytest.approx(2 * (3 * 0.25 + np.cos(0.5)))


def test_float32_keeps_its_precision(rng):
    x = rng.standard_normal(3).astype(np.float32)
    (g,) = wg.gradient(lambda x: np.sum(wg.forwarddiff(np.exp, x)), x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.exp(x), rtol=1e-6)


def test_outside_reverse_mode_it_is_just_the_call(rng):
    x = rng.standard_normal(3)
    np.testing.assert_array_equal(wg.forwarddiff(np.sin, x), np.sin(x))


def test_an_argument_not_traced_here_still_gives_the_closure_its_gradient(rng):
    x, w = rng.standard_normal(3), rng.standard_normal(3)
    (gw,) = wg.gradient(lambda w: np.sum(wg.forwarddiff(lambda z: np.sin(w * z), x)), w)
    np.testing.assert_allclose(gw, np.cos(w * x) * x, rtol=1e-12)


def test_x_goes_through_forward_rules_only(rng):
    # g has a forward rule and a reverse rule that must not be used: the derivative with
    # respect to x comes from forward mode.
    @wg.primitive
    def g(z):
        return np.sin(z)

    @wg.rrule(g)
    def _g_reverse(z):
        raise AssertionError("forwarddiff used the reverse rule")

    @wg.frule(g)
    def _g_forward(dz, z):
        return np.sin(z), np.cos(z) * dz

    x = rng.standard_normal(3)
    (gx,) = wg.gradient(lambda x: np.sum(wg.forwarddiff(g, x) * 3), x)
    np.testing.assert_allclose(gx, 3 * np.cos(x), rtol=1e-12)


def test_closure_and_x_in_a_forward_only_primitive(rng):
    # The primitive's forward rule computes on the closure's reverse tracers: the closure's
    # gradient comes from the operations of that rule, recorded on the tape.
    @wg.primitive
    def g(z):
        return np.exp(z)

    @wg.rrule(g)
    def _g_reverse(z):
        raise AssertionError("forwarddiff used the reverse rule")

    @wg.frule(g)
    def _g_forward(dz, z):
        return np.exp(z), np.exp(z) * dz

    x, w = rng.standard_normal(3), rng.standard_normal(3)
    gx, gw = wg.gradient(lambda x, w: np.sum(wg.forwarddiff(lambda z: g(w * z), x)), x, w)
    np.testing.assert_allclose(gx, np.exp(w * x) * w, rtol=1e-12)
    np.testing.assert_allclose(gw, np.exp(w * x) * x, rtol=1e-12)


def test_structured_output(rng):
    x, w = rng.standard_normal(3), rng.standard_normal(3)
    inner = lambda z, w: (np.sin(z) * w, {"sum": np.sum(z ** 2), "const": np.ones(2), "n": 3})

    def loss(outputs):
        a, b = outputs
        return np.sum(a ** 2) + b["sum"] * 3 + np.sum(b["const"]) * b["n"]

    got = wg.gradient(lambda x, w: loss(wg.forwarddiff(lambda z: inner(z, w), x)), x, w)
    expected = wg.gradient(lambda x, w: loss(inner(x, w)), x, w)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("inner", [
    np.exp, lambda z: z * z, lambda z: np.abs(z) ** 2, np.conj, lambda z: np.real(z) * z,
    lambda z: np.abs(z),
], ids=["exp", "square", "abs2", "conj", "real times z", "abs"])
def test_complex_argument(inner):
    z = np.array([0.3 + 0.4j, -1.1 + 0.2j])
    loss = lambda f: lambda z: np.sum(np.abs(f(z) + 1) ** 2)
    (got,) = wg.gradient(loss(lambda z: wg.forwarddiff(inner, z)), z)
    (expected,) = wg.gradient(loss(inner), z)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_real_argument_complex_output(rng):
    x, w = rng.standard_normal(3), rng.standard_normal(3) + 1j * rng.standard_normal(3)
    inner = lambda t: np.exp(1j * t) * w
    loss = lambda f: lambda x: np.sum(np.abs(f(x) - 1) ** 2)
    (got,) = wg.gradient(loss(lambda x: wg.forwarddiff(inner, x)), x)
    (expected,) = wg.gradient(loss(inner), x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_pullback_back_called_twice(rng):
    x = rng.standard_normal(3)
    _, back = wg.pullback(lambda x: wg.forwarddiff(lambda z: np.sin(z) * 2, x), x)
    u = rng.standard_normal(3)
    np.testing.assert_allclose(back(u)[0], 2 * np.cos(x) * u)
    np.testing.assert_allclose(back(2 * u)[0], 4 * np.cos(x) * u)


# ---------------------------------------------------------------------------------------------
# Nesting
# ---------------------------------------------------------------------------------------------

def _loss(x, w):
    return np.sum(wg.forwarddiff(lambda z: np.tanh(w * z) * z, x) ** 2)


def _plain_loss(x, w):
    return np.sum((np.tanh(w * x) * x) ** 2)


def test_gradient_of_gradient(rng):
    x, w = rng.standard_normal(3), rng.standard_normal(3)
    second = lambda loss: wg.gradient(lambda x, w: np.sum(wg.gradient(loss, x, w)[0] ** 2), x, w)
    for a, b in zip(second(_loss), second(_plain_loss)):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_hessian_forward_over_reverse(rng):
    x, w = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(wg.hessian(lambda x: _loss(x, w), x),
                               wg.hessian(lambda x: _plain_loss(x, w), x), rtol=1e-10)


def test_forwarddiff_inside_forwarddiff(rng):
    x, w = rng.standard_normal(2), rng.standard_normal(2)

    def nested(x, w):
        return np.sum(wg.forwarddiff(
            lambda a: np.sin(a) * wg.forwarddiff(lambda b: np.exp(b * w), a), x))

    plain = lambda x, w: np.sum(np.sin(x) * np.exp(x * w))
    for a, b in zip(wg.gradient(nested, x, w), wg.gradient(plain, x, w)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_inside_a_derivative(rng):
    # A forward level outside: the reverse level inside sees x; forwarddiff works there.
    w = rng.standard_normal(3)
    inner_gradient = lambda s: wg.gradient(
        lambda x: np.sum(wg.forwarddiff(lambda z: np.sin(z * s) * w, x)), np.ones(3))[0]
    got = wg.derivative(inner_gradient, 0.4)
    # ∂/∂s of w s cos(s) = w (cos s - s sin s)
    np.testing.assert_allclose(got, w * (np.cos(0.4) - 0.4 * np.sin(0.4)), rtol=1e-12)
