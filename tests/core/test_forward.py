"""The forward level: dual tracers, Zero tangents that cost nothing, user forward rules,
multi-output calls, primitives without a forward rule, and tracers that escape."""
import collections

import numpy as np
import pytest

import wengert as wg


def counted(name=None):
    """A wg.primitive (doubling its argument) whose forward rule counts its calls."""
    calls = []

    @wg.primitive
    def double(x):
        return 2 * x

    @wg.frule(double)
    def _double_forward(dx, x):
        calls.append(dx)
        return double(x), 2 * dx

    return double, calls


# ---------------------------------------------------------------------------------------------
# Zero costs nothing: a call whose tangents are all Zero is not differentiated at that level
# ---------------------------------------------------------------------------------------------

def test_a_zero_tangent_argument_never_reaches_the_forward_rule():
    double, calls = counted()
    pf = wg.pushforward(lambda x, y: double(x) + np.sin(double(y)), 1.0, 2.0)
    assert pf(1.0, wg.Zero()) == 2.0
    assert len(calls) == 1          # double(y) ran as plain NumPy
    assert pf(wg.Zero(), 1.0) == pytest.approx(2 * np.cos(4.0))
    assert len(calls) == 2


def test_all_zero_tangents_run_no_forward_rule():
    double, calls = counted()
    y, dy = wg.jvp(lambda x: double(double(x)), (np.ones(3),), (wg.Zero(),))
    np.testing.assert_array_equal(y, 4 * np.ones(3))
    np.testing.assert_array_equal(dy, np.zeros(3))
    assert calls == []


def test_a_rule_returning_zero_stops_the_level_downstream():
    double, calls = counted()

    @wg.primitive
    def flat(x):
        return x * 0 + 1

    @wg.frule(flat)
    def _flat_forward(dx, x):
        return flat(x), wg.Zero()     # a constant function: its output carries no tangent

    _, dy = wg.jvp(lambda x: double(flat(x)) + x, (3.0,), (1.0,))
    assert dy == 1.0 and calls == []


def test_inner_zero_tangent_is_only_differentiated_by_the_outer_level():
    # The inner jvp gives x a Zero tangent: x is an outer tracer, so double(x) is
    # differentiated once (for the outer level), never for the inner one.
    double, calls = counted()

    def inner(x):
        y, dy = wg.jvp(lambda a, b: double(a) + b * b, (x, 1.0), (wg.Zero(), 1.0))
        return y + dy

    assert wg.derivative(inner, 0.5) == 2.0
    assert len(calls) == 1


def test_nonzero_tangents_do_reach_the_rule():
    double, calls = counted()
    _, dy = wg.jvp(lambda x: double(x) * double(x), (3.0,), (1.0,))
    assert dy == 2 * 6.0 * 2 and len(calls) == 2


# ---------------------------------------------------------------------------------------------
# User forward rules
# ---------------------------------------------------------------------------------------------

def test_user_rule_sees_dense_tangents_and_zero_for_constants():
    seen = {}

    @wg.primitive
    def scaled(x, c):
        return x * c

    @wg.frule(scaled)
    def _scaled_forward(dx, dc, x, c):
        seen["dx"], seen["dc"] = dx, dc
        return x * c, dx * c + x * dc

    x = np.arange(4.0)
    got = wg.partial(lambda x: scaled(x, 3.0), x, index=2)
    assert type(seen["dx"]) is np.ndarray          # a OneHot arrives densified
    np.testing.assert_array_equal(seen["dx"], [0, 0, 1, 0])
    assert seen["dc"] is wg.Zero()
    np.testing.assert_array_equal(got, [0, 0, 3, 0])


def test_user_rule_wins_over_the_body():
    @wg.primitive
    def f(x):
        return np.sin(x)

    @wg.frule(f)
    def _f_forward(dx, x):
        return np.sin(x), 100.0 * dx   # deliberately not the true derivative

    assert wg.derivative(f, 0.3) == 100.0


def test_primitive_without_forward_rule_goes_through_its_body():
    reverse_calls = []

    @wg.primitive
    def f(x):
        return np.exp(x) * x

    @wg.rrule(f)
    def _f_reverse(x):
        reverse_calls.append(x)
        return f(x), lambda ct: (ct * np.exp(x) * (1 + x),)

    assert wg.derivative(f, 0.5) == pytest.approx(np.exp(0.5) * 1.5)
    assert reverse_calls == []


def test_multi_output_rule():
    Split = collections.namedtuple("Split", "low high")

    @wg.primitive
    def split(x):
        return Split(x[:2], x[2:])

    @wg.frule(split)
    def _split_forward(dx, x):
        return split(x), Split(dx[:2], wg.Zero())

    _, dy = wg.jvp(lambda x: split(x).low * 2 + np.sum(split(x).high), (np.arange(4.0),),
                   (np.ones(4),))
    np.testing.assert_array_equal(dy, [2, 2])


def test_multi_output_rule_giving_a_single_tangent_is_an_error():
    @wg.primitive
    def pair(x):
        return x, 2 * x

    @wg.frule(pair)
    def _pair_forward(dx, x):
        return (x, 2 * x), dx

    with pytest.raises(wg.DifferentiationError, match="several outputs"):
        wg.jvp(lambda x: pair(x)[0], (1.0,), (1.0,))


def test_primitive_with_structured_arguments():
    @wg.primitive
    def weighted(params, x):
        return params["w"] * x + params["b"]

    @wg.frule(weighted)
    def _weighted_forward(dparams, dx, params, x):
        dw, db = dparams["w"], dparams["b"]
        return weighted(params, x), dw * x + params["w"] * dx + db

    params = {"w": 2.0, "b": np.array([1.0, -1.0])}
    _, dy = wg.jvp(lambda p, x: weighted(p, x), (params, 3.0),
                   ({"w": 1.0, "b": wg.Zero()}, 0.5))
    np.testing.assert_allclose(dy, [3.0 + 1.0, 3.0 + 1.0])


# ---------------------------------------------------------------------------------------------
# Tracers: control flow, conversions, escape
# ---------------------------------------------------------------------------------------------

def test_control_flow_on_dual_numbers():
    def f(x):
        total = 0.0
        while x < 10:
            x = x * 2
            total = total + x
        return total if x > 12 else -total

    # From 1.5: x = 3, 6, 12, so total = (2 + 4 + 8)·x0 and the else branch is taken.
    assert wg.derivative(f, 1.5) == -14.0
    assert wg.derivative(f, 1.6) == 14.0      # 3.2, 6.4, 12.8 > 12: the if branch


def test_tracer_looks_like_its_value():
    seen = {}

    def f(x):
        seen.update(shape=x.shape, ndim=x.ndim, dtype=x.dtype, size=x.size, length=len(x))
        return x

    wg.jvp(f, (np.ones((2, 3), np.float32),), (np.ones((2, 3), np.float32),))
    assert seen == dict(shape=(2, 3), ndim=2, dtype=np.float32, size=6, length=2)


def test_converting_a_dual_number_to_float_is_an_error():
    with pytest.raises(wg.DifferentiationError, match="float"):
        wg.derivative(lambda x: float(x) * 2, 1.0)


def test_escaped_dual_number_is_an_error():
    kept = []
    wg.derivative(lambda x: kept.append(x * 2) or x, 1.0)
    with pytest.raises(wg.DifferentiationError, match="already finished"):
        np.sin(kept[0])


def test_levels_are_told_apart_by_identity_not_by_value():
    # Two forward levels at the same point, each seeing only its own perturbation.
    def f(x):
        return wg.derivative(lambda y: x * y, x)      # = x, whatever the inner level does

    assert wg.derivative(f, 3.0) == 1.0


def test_many_operations_do_not_recurse():
    def f(x):
        for _ in range(5000):
            x = x * 1.0001
        return x

    assert wg.derivative(f, 1.0) == pytest.approx(1.0001 ** 5000, rel=1e-10)


def test_levels_in_threads_do_not_see_each_other():
    from concurrent.futures import ThreadPoolExecutor

    def work(k):
        f = lambda x: x ** 3 + k * x
        return [wg.derivative(lambda x: wg.derivative(f, x), float(x)) for x in range(50)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(4)))
    for result in results:
        assert result == [6.0 * x for x in range(50)]
