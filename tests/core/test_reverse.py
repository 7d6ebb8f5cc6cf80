"""The reverse level: the tape, the backward walk, accumulation of cotangents, Zero
cotangents, multi-output calls, and pullbacks that break the contract."""
import numpy as np
import pytest

import wengert as wg


# ---------------------------------------------------------------------------------------------
# back() is repeatable and linear
# ---------------------------------------------------------------------------------------------

def _model(x, y):
    h = np.tanh(x * y)
    return h * h + np.sin(x) * y


def test_back_called_several_times_gives_the_same_answer(rng):
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    _, back = wg.pullback(_model, x, y)
    u = rng.standard_normal(4)
    first = back(u)
    for _ in range(3):
        again = back(u)
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)


def test_back_is_linear_in_the_cotangent(rng):
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    _, back = wg.pullback(_model, x, y)
    u, w = rng.standard_normal(4), rng.standard_normal(4)
    for combined, (a, b) in zip(back(2 * u - 3 * w), zip(back(u), back(w))):
        np.testing.assert_allclose(combined, 2 * a - 3 * b)


def test_back_does_not_mutate_its_cotangent(rng):
    x = rng.standard_normal(3)
    _, back = wg.pullback(lambda x: x * 2 + x * 3, x)
    u = rng.standard_normal(3)
    saved = u.copy()
    back(u)
    np.testing.assert_array_equal(u, saved)


def test_gradient_does_not_mutate_its_arguments(rng):
    x = rng.standard_normal(3)
    saved = x.copy()
    wg.gradient(lambda x: np.sum(x * x + x), x)
    np.testing.assert_array_equal(x, saved)


# ---------------------------------------------------------------------------------------------
# Accumulation: one value used many times
# ---------------------------------------------------------------------------------------------

def test_fan_out_accumulates(rng):
    x = rng.standard_normal(3)
    (g,) = wg.gradient(lambda x: np.sum(x * x + x * 3 + np.sin(x) * x), x)
    np.testing.assert_allclose(g, 2 * x + 3 + np.cos(x) * x + np.sin(x))


def test_many_element_reads_accumulate(rng):
    x = rng.standard_normal(50)

    def f(x):
        total = 0.0
        for i in range(len(x)):
            total = total + x[i] * x[(i + 1) % len(x)]
        return total

    (g,) = wg.gradient(f, x)
    np.testing.assert_allclose(g, np.roll(x, 1) + np.roll(x, -1))


def test_repeated_fancy_index_accumulates():
    (g,) = wg.gradient(lambda x: np.sum(x[[0, 0, 2, 0]] * np.arange(1.0, 5.0)), np.ones(3))
    np.testing.assert_allclose(g, [1 + 2 + 4, 0, 3])


def test_input_that_is_also_an_output_of_a_tree(rng):
    x = rng.standard_normal(2)
    _, back = wg.pullback(lambda x: (x, x * 2), x)
    u, w = rng.standard_normal(2), rng.standard_normal(2)
    np.testing.assert_allclose(back((u, w))[0], u + 2 * w)


def test_real_and_complex_cotangents_accumulate_into_a_complex_input():
    z = np.array([1 + 1j, 2 - 1j])
    # |z|² and Re(z): 2z + 1
    (g,) = wg.gradient(lambda z: np.sum(np.abs(z) ** 2) + np.sum(np.real(z)), z)
    np.testing.assert_allclose(g, 2 * z + 1)


# ---------------------------------------------------------------------------------------------
# Rules written by users: wg.primitive + wg.rrule
# ---------------------------------------------------------------------------------------------

@wg.primitive
def scaled_sum(x, y):
    return np.sum(x) * y


@wg.rrule(scaled_sum)
def _scaled_sum_rule_with_too_few_cotangents(x, y):
    def scaled_sum_pullback(ct):
        return (ct * y * np.ones_like(x),)        # forgets y's cotangent

    return scaled_sum(x, y), scaled_sum_pullback


@wg.primitive
def doubled(x):
    return 2 * x


@wg.rrule(doubled)
def _doubled_rule_returning_a_bare_array(x):
    return doubled(x), lambda ct: 2 * ct           # not a tuple


def test_pullback_with_the_wrong_number_of_cotangents_is_an_error():
    with pytest.raises(wg.DifferentiationError, match=r"scaled_sum.*one cotangent per"):
        wg.gradient(scaled_sum, np.ones(3), 2.0)


def test_pullback_that_does_not_return_a_tuple_is_an_error():
    with pytest.raises(wg.DifferentiationError, match=r"doubled.*tuple"):
        wg.gradient(lambda x: np.sum(doubled(x)), np.ones(3))


@wg.primitive
def power_of(x, n):
    return x ** n


@wg.rrule(power_of)
def _power_of_rule(x, n):
    def power_of_pullback(ct):
        return ct * n * x ** (n - 1), wg.NoTangent()

    return power_of(x, n), power_of_pullback


def test_no_tangent_and_zero_from_a_user_pullback():
    assert wg.gradient(lambda x: power_of(x, 3), 2.0) == (12.0,)
    (g,) = wg.gradient(lambda x: np.sum(power_of(x, 2.0)), np.arange(3.0))
    np.testing.assert_allclose(g, 2 * np.arange(3.0))


def test_user_rule_wins_over_its_body():
    calls = []

    @wg.primitive
    def square(x):
        return x * x

    @wg.rrule(square)
    def _(x):
        def square_pullback(ct):
            calls.append(ct)
            return (ct * 2 * x,)
        return square(x), square_pullback

    assert wg.gradient(square, 3.0) == (6.0,)
    assert len(calls) == 1


def test_primitive_without_rule_is_differentiated_through_its_body():
    @wg.primitive
    def softplus(x):
        return np.log1p(np.exp(x))

    (g,) = wg.gradient(lambda x: np.sum(softplus(x)), np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-np.array([-1.0, 0.0, 2.0]))))


# ---------------------------------------------------------------------------------------------
# Multi-output calls: unused outputs send Zero
# ---------------------------------------------------------------------------------------------

@wg.primitive
def sin_cos(x):
    return np.sin(x), np.cos(x)


received = []


@wg.rrule(sin_cos)
def _sin_cos_rule(x):
    s, c = np.sin(x), np.cos(x)

    def sin_cos_pullback(ct):
        ds, dc = ct
        received.append((type(ds), type(dc)))
        g = wg.Zero()
        if not isinstance(ds, wg.Zero):
            g = g + ds * c
        if not isinstance(dc, wg.Zero):
            g = g - dc * s
        return (g,)

    return (s, c), sin_cos_pullback


@pytest.mark.parametrize("f, expected, zeros", [
    (lambda x: sin_cos(x)[0], np.cos, [(False, True)]),
    (lambda x: sin_cos(x)[1], lambda x: -np.sin(x), [(True, False)]),
    (lambda x: sin_cos(x)[0] * sin_cos(x)[1], lambda x: np.cos(2 * x),
     [(True, False), (False, True)]),
], ids=["first", "second", "both"])
def test_multi_output_sends_zero_for_unused_outputs(f, expected, zeros):
    received.clear()
    (g,) = wg.gradient(f, 0.3)
    assert g == pytest.approx(expected(0.3))
    # Per call of sin_cos (last call first): which of its two cotangents arrived as Zero.
    assert [(ds is wg.Zero, dc is wg.Zero) for ds, dc in received] == zeros


def test_multi_output_with_non_differentiable_outputs():
    @wg.primitive
    def value_and_index(x):
        return np.max(x), int(np.argmax(x))

    @wg.rrule(value_and_index)
    def _(x):
        i = int(np.argmax(x))

        def value_and_index_pullback(ct):
            dvalue, dindex = ct
            assert isinstance(dindex, wg.Zero)
            g = np.zeros_like(x)
            return (np.where(np.arange(len(x)) == i, dvalue, g),)

        return (x[i], i), value_and_index_pullback

    def f(x):
        value, index = value_and_index(x)
        assert type(index) is int
        return value * 2

    (g,) = wg.gradient(f, np.array([0.5, 3.0, 1.0]))
    np.testing.assert_allclose(g, [0, 2, 0])


def test_eigh_multi_output():
    a = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, -1.0]])
    # The largest eigenvalue's gradient is the outer product of its eigenvector, as a
    # gradient of the lower triangle that eigh reads.
    (g,) = wg.gradient(lambda a: np.linalg.eigh(a)[0][-1], a)
    v = np.linalg.eigh(a)[1][:, -1]
    np.testing.assert_allclose(g, np.tril(2 * np.outer(v, v), -1) + np.diag(v * v), atol=1e-10)


def test_long_chain_does_not_recurse():
    # The walk is iterative: a tape much longer than Python's recursion limit is fine.
    def f(x):
        for _ in range(5000):
            x = x * 1.0001 + 0.0
        return x

    assert wg.gradient(f, 1.0)[0] == pytest.approx(1.0001 ** 5000)


# ---------------------------------------------------------------------------------------------
# Elementwise nodes: a call of tracers and plain constants records its partials only
# ---------------------------------------------------------------------------------------------

ELEMENTWISE_NODES = {
    "unary": lambda x: np.tanh(x),
    "constant second": lambda x: x * 1.5 - 0.25,
    "constant first": lambda x: 2.0 / (3.0 - x) + 2.0 ** x,
    "broader constant": lambda x: x * np.array([[1.0], [-2.0]]) + np.ones((2, 1)),
    # 0·∞ at a pole is 0: behind a where that did not select it, and behind a zero factor
    "pole under a selected zero": lambda x: np.where(x > 1e3, np.sqrt(x * 0.0), x),
    "pole under a zero factor": lambda x: np.sqrt(x * 0.0) * 0.0 + x,
    "complex constant": lambda x: np.real(np.exp(x * (1.0 + 2.0j))),
    "two tracers": lambda x: x * np.sin(x) + x / (2.0 + np.cos(x)) - (1.0 + x * x) ** np.tanh(x),
    "two tracers broadcast": lambda x: np.arctan2(np.reshape(x, (-1, 1)), 1.5 + np.exp(x)),
    "one tracer twice": lambda x: np.hypot(x, x) * x,
}


@pytest.mark.parametrize("name", ELEMENTWISE_NODES)
@pytest.mark.parametrize("x", [np.array([0.3, -0.5, 1.2]), np.array([0.7], dtype=np.float32),
                               np.float64(0.4), 0.6],
                         ids=["3-vector", "float32", "scalar", "float"])
def test_elementwise_nodes_against_finite_differences(name, x):
    f = ELEMENTWISE_NODES[name]
    wg.testing.check_grads(lambda x: np.sum(f(x)), x, modes=("reverse",), order=2)
    (g,) = wg.gradient(lambda x: np.sum(f(x)), x)
    assert np.shape(g) == np.shape(x)
    assert np.result_type(g) == np.result_type(x)


def test_a_users_rule_for_an_elementwise_function_replaces_the_librarys():
    calls = []

    @wg.rrule(np.sin)
    def _(x):
        def sin_pullback(ct):
            calls.append("sin")
            return (ct * 2.0,)
        return np.sin(x), sin_pullback

    @wg.rrule(np.multiply)
    def _(x, y):
        def multiply_pullback(ct):
            calls.append("multiply")
            return (ct * 10.0, ct * 10.0)
        return np.multiply(x, y), multiply_pullback

    (g,) = wg.gradient(lambda x: np.sum(np.sin(x) * 3.0), np.ones(2))
    assert calls == ["multiply", "sin"]
    np.testing.assert_allclose(g, 20.0)
