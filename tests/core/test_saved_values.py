"""What the tape keeps is what the program saw: a constant array that the program overwrites
later, an argument or output of wg.pullback written into before ``back`` runs, and the
cotangents ``back`` returns (fresh arrays, never the caller's nor each other's)."""
import numpy as np
import pytest

import wengert as wg

RNG = np.random.default_rng(7)
VALUES = RNG.uniform(0.5, 1.5, (3, 4))   # one row per loop iteration

# Every kind of node that reads a constant argument in its pullback: elementwise nodes with
# either argument constant, and hand-written rules (products, linear algebra, reductions).
BINARY = {
    "multiply": np.multiply,
    "divide": np.divide,
    "power": np.power,
    "arctan2": np.arctan2,
    "hypot": np.hypot,
    "maximum": np.maximum,
    "logaddexp": np.logaddexp,
    "matmul": lambda a, b: a @ np.outer(b, b),
    "dot": np.dot,
    "inner": np.inner,
    "einsum": lambda a, b: np.einsum("i,i->", a, b),
    "outer": np.outer,
    "where": lambda a, b: np.where(b > 1.0, a, 2 * a),
    "solve": lambda a, b: np.linalg.solve(np.diag(b) + 3.0, a),
    "average": lambda a, b: np.average(a, weights=b),
}


def _loop(op, traced_first):
    """Sum of op(x, t) over rows written into ONE buffer t, in place, as a loop would."""
    def f(x):
        t = np.empty(4)
        total = 0.0
        for row in VALUES:
            t[:] = row
            total = total + np.sum(op(x, t) if traced_first else op(t, x))
        return total
    return f


def _fresh(op, traced_first):
    def f(x):
        return sum(np.sum(op(x, row.copy()) if traced_first else op(row.copy(), x))
                   for row in VALUES)
    return f


@pytest.mark.parametrize("traced_first", [True, False], ids=["x-op-t", "t-op-x"])
@pytest.mark.parametrize("name", list(BINARY))
def test_overwritten_constant_keeps_the_value_each_node_saw(name, traced_first):
    op = BINARY[name]
    x = RNG.uniform(0.5, 1.5, 4)
    expected = wg.gradient(_fresh(op, traced_first), x)[0]
    assert np.allclose(wg.gradient(_loop(op, traced_first), x)[0], expected, rtol=1e-12)
    # The same through forward over reverse (the Hessian) and reverse over reverse.
    expected_h = wg.hessian(_fresh(op, traced_first), x)
    assert np.allclose(wg.hessian(_loop(op, traced_first), x), expected_h, rtol=1e-10)


def test_buffer_refilled_in_a_loop():
    def f(x):
        t = np.empty(3)
        a = 0.0
        for k in range(3):
            t[:] = k + 1.0
            a = a + np.sum(x * t)
        return a
    assert np.array_equal(wg.gradient(f, np.ones(3))[0], [6.0, 6.0, 6.0])


def test_pullback_argument_written_after_the_call():
    x = np.array([1.0, 2.0, 3.0])
    y, back = wg.pullback(lambda x: x ** 3, x)
    x[0] = 10.0
    assert np.array_equal(back(np.ones(3))[0], [3.0, 12.0, 27.0])
    assert x[0] == 10.0   # the caller's array is the caller's: written by them, not by us


def test_pullback_output_written_before_back():
    x = np.array([0.0, 1.0])
    y, back = wg.pullback(np.exp, x)   # exp's pullback reads its output
    y[:] = -5.0
    assert np.allclose(back(np.ones(2))[0], np.exp(x))
    assert np.allclose(back(np.ones(2))[0], np.exp(x))   # and again, after the first call


def test_constant_of_a_user_rule_is_kept():
    @wg.primitive
    def scaled(x, w):
        return x * w

    @wg.rrule(scaled)
    def _(x, w):
        return x * w, lambda ct: (ct * w, wg.NoTangent())

    def f(x):
        w = np.ones(2)
        first = scaled(x, w)
        w[:] = 100.0
        return np.sum(first)
    assert np.array_equal(wg.gradient(f, np.ones(2))[0], [1.0, 1.0])


# --- back returns fresh cotangents -------------------------------------------------------------

SHARING = {
    "identity": (lambda a, b: a + 0.0 * b, 2),
    "add": (lambda a, b: a + b, 2),
    "same argument twice": (lambda a, b: a + a + b, 2),
    "pass-through": (lambda a, b: (a, b), None),
}


@pytest.mark.parametrize("name", list(SHARING))
def test_back_returns_arrays_nobody_else_holds(name):
    f, _ = SHARING[name]
    a, b = np.ones(3), np.ones(3)
    y, back = wg.pullback(f, a, b)
    ct = (np.ones(3), np.ones(3)) if isinstance(y, tuple) else np.ones(3)
    seed_before = [np.copy(c) for c in (ct if isinstance(ct, tuple) else (ct,))]
    ga, gb = back(ct)
    seeds = ct if isinstance(ct, tuple) else (ct,)
    for g in (ga, gb):
        assert all(g is not s and not np.shares_memory(g, s) for s in seeds)
    assert not np.shares_memory(ga, gb)
    ga += 100.0   # writing into one gradient changes neither the other nor the seed
    assert gb.max() < 100.0
    assert all(np.array_equal(s, before) for s, before in zip(seeds, seed_before))


def test_back_of_a_user_rule_returning_its_own_array():
    kept = np.arange(3.0)

    @wg.primitive
    def weighted(x):
        return np.sum(x * kept)

    @wg.rrule(weighted)
    def _(x):
        return np.sum(x * kept), lambda ct: (kept,)   # hands back an array it holds

    g = wg.gradient(weighted, np.ones(3))[0]
    g[:] = -1.0
    assert np.array_equal(kept, [0.0, 1.0, 2.0])


# --- gradients handed back are the caller's own arrays -----------------------------------------

def test_gradients_never_alias_the_seed_each_other_or_an_earlier_call():
    x = np.ones(3)
    seed = np.array([1.0, 2.0, 3.0])
    _, back = wg.pullback(lambda x: x, x)                 # the cotangent is the seed itself
    (g1,) = back(seed)
    assert g1 is not seed and not np.shares_memory(g1, seed)
    g1[0] = 99.0
    assert seed[0] == 1.0 and back(seed)[0][0] == 1.0
    ga, gb = wg.gradient(lambda a, b: np.sum(a + b), x, x)   # one array for two inputs
    assert not np.shares_memory(ga, gb)
    _, back = wg.pullback(lambda x: np.sin(x) * 2.0, x)     # the tape outlives each call
    (c1,), (c2,) = back(np.ones(3)), back(np.ones(3))
    assert not np.shares_memory(c1, c2)


def test_a_fresh_gradient_from_a_rule_is_not_copied_again():
    # the pullback's own result, which nothing else holds once its node is freed, is handed
    # over as it is (no pass over the gradient): writing into it changes nothing else
    w = np.random.default_rng(0).standard_normal(50)
    kept = []

    @wg.primitive
    def weighted(x):
        return w @ x

    @wg.rrule(weighted)
    def _(x):
        def back(ct):
            g = ct * w
            kept.append(id(g))
            return (g,)
        return w @ x, back

    (g,) = wg.gradient(weighted, np.ones(50))
    np.testing.assert_array_equal(g, w)
    from wengert.core import reverse
    if reverse._UNSHARED > 0:   # CPython before 3.14: unshared arrays are recognised
        assert id(g) == kept[-1]   # the very array the pullback made
    g[0] = 123.0
    assert w[0] != 123.0


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_stop_gradient_cannot_be_written_into_behind_the_derivatives_back(mode):
    # the value stop_gradient hands out is the array the derivative was recorded with
    def f(x):
        frozen = wg.stop_gradient(x)
        with pytest.raises(ValueError, match="read-only"):
            frozen[0] = 100.0
        scratch = wg.stop_gradient(x).copy()   # the way to a writable copy
        scratch[0] = 100.0
        return np.sum(np.sin(x) * x) + 0.0 * np.sum(scratch)

    x = np.array([0.5, 1.5])
    expected = np.sin(x) + x * np.cos(x)
    if mode == "reverse":
        (g,) = wg.gradient(f, x)
    else:
        g = wg.jacobian(f, x, mode="forward")[0]
    np.testing.assert_allclose(g, expected)
    np.testing.assert_array_equal(x, [0.5, 1.5])
