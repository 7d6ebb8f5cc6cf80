"""Rules of the reductions (rules/reductions.py, rules/sums.py) in both modes, checked against
finite differences.

One spec table (REDUCTIONS) drives the checks over shapes, every form of ``axis``,
``keepdims`` and dtypes, in reverse and forward mode, to second order (forward over reverse,
forward over forward, reverse over forward); the tests below it pin the policies at awkward
points (zeros in prod, ties in max/min, std at a constant input) in both modes, and that a
one-element sparse tangent (a OneHot) stays sparse through every reduction."""
import numpy as np
import pytest

import wengert as wg
from wengert.registry import forward_rules
from wengert.tangents import Indexed, OneHot
from wengert.testing import check_grads

REAL = (np.float32, np.float64)
ALL = REAL + (np.complex128,)


def random_array(shape, dtype, rng, low=0.5):
    """Values away from 0 in magnitude (products stay tame); distinct, so no max/min ties."""
    x = rng.uniform(low, 1.5, shape) * rng.choice([-1, 1], shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.uniform(-1, 1, shape)
    return x.astype(dtype)


def with_nan(shape, dtype, rng):
    x = random_array(shape, dtype, rng)
    x.flat[1] = np.nan
    return x


# name: (function, input maker, dtypes, extra keyword arguments)
REDUCTIONS = {
    "sum": (np.sum, random_array, ALL, {}),
    "mean": (np.mean, random_array, ALL, {}),
    "prod": (np.prod, random_array, ALL, {}),
    "max": (np.max, random_array, REAL, {}),
    "amax": (np.amax, random_array, REAL, {}),
    "min": (np.min, random_array, REAL, {}),
    "amin": (np.amin, random_array, REAL, {}),
    "ptp": (np.ptp, random_array, REAL, {}),
    "var": (np.var, random_array, ALL, {}),
    "var_ddof1": (np.var, random_array, ALL, {"ddof": 1}),
    "std": (np.std, random_array, ALL, {}),
    "std_ddof1": (np.std, random_array, ALL, {"ddof": 1}),
    "nansum": (np.nansum, with_nan, REAL, {}),
    "nanmean": (np.nanmean, with_nan, REAL, {}),
    "nanprod": (np.nanprod, with_nan, REAL, {}),
    "nanmax": (np.nanmax, with_nan, REAL, {}),
    "nanmin": (np.nanmin, with_nan, REAL, {}),
}

# (shape, axis): int, negative, tuple (also unsorted and negative), None, and 0-d input.
AXES = [
    ((5,), None), ((5,), 0), ((5,), -1),
    ((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((3, 4), (0, 1)),
    ((2, 3, 4), 1), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 0)),
    ((), None),
]


def _cases():
    for name, (_, _, dtypes, _) in REDUCTIONS.items():
        for shape, axis in AXES:
            if shape == () and (name.startswith("nan") or name.endswith("ddof1")):
                continue  # a 0-d input holds no NaN beside a number, nor a degree of freedom
            for dtype in dtypes:
                yield pytest.param(name, shape, axis, dtype,
                                   id=f"{name}-{shape}-{axis}-{np.dtype(dtype).name}")


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name, shape, axis, dtype", list(_cases()))
def test_reduction_derivatives(name, shape, axis, dtype, keepdims, rng):
    fn, make, _, extra = REDUCTIONS[name]
    x = make(shape, dtype, rng)
    check_grads(lambda x: fn(x, axis=axis, keepdims=keepdims, **extra), x)


def pushforward_along(f, u):
    """``x ↦ J_f(x) u``: differentiating it runs a forward level inside the outer one."""
    return lambda x: wg.jvp(f, (x,), (u,))[1]


# Second derivatives: a rule's own body must be differentiable. A nonlinear function after
# the reduction makes the pullback receive a traced cotangent (order=2: forward and reverse
# over reverse); differentiating a pushforward runs the forward rule on traced values
# (forward over forward, reverse over forward).
@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("shape, axis", [((3, 4), 1), ((2, 3, 4), (0, -1))])
def test_reduction_second_order(name, shape, axis, rng):
    fn, make, _, extra = REDUCTIONS[name]
    x = make(shape, np.float64, rng)
    f = lambda x: np.sin(fn(x, axis=axis, **extra))
    check_grads(f, x, order=2)
    check_grads(pushforward_along(f, rng.standard_normal(shape)), x)


@pytest.mark.parametrize("fn", [np.sum, np.mean, np.prod, np.var, np.std])
def test_reduction_second_order_complex(fn, rng):
    x = random_array((2, 3), np.complex128, rng)
    check_grads(lambda x: fn(x, axis=0), x, order=2)
    u = random_array((2, 3), np.complex128, rng)
    check_grads(pushforward_along(lambda x: fn(x, axis=0) ** 2, u), x)


# --- prod with zeros: no division by x ---------------------------------------------------


def test_prod_one_zero():
    (g,) = wg.gradient(np.prod, np.array([2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 6.0, 0.0])


def test_prod_several_zeros_along_axis():
    x = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 4.0], [2.0, 3.0, 5.0]])
    (g,) = wg.gradient(lambda x: np.sum(np.prod(x, axis=1)), x)
    expected = [[0.0, 0.0, 0.0], [0.0, 4.0, 0.0], [15.0, 10.0, 6.0]]
    np.testing.assert_array_equal(g, expected)
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_prod_with_zeros_matches_finite_differences(axis, rng):
    x = random_array((3, 4), np.float64, rng)
    x[0, 1] = x[2, 1] = x[1, 3] = 0.0
    check_grads(lambda x: np.prod(x, axis=axis), x, order=2)


def test_prod_tangent_at_zeros_is_exact():
    # d prod = Σ_j (∏_{k≠j} x_k) u_j: with one zero only the zero's own tangent counts.
    _, dy = wg.jvp(np.prod, (np.array([2.0, 0.0, 3.0]),), (np.array([1.0, 2.0, 4.0]),))
    assert dy == 12.0
    x = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 4.0], [2.0, 3.0, 5.0]])
    _, dy = wg.jvp(lambda x: np.prod(x, axis=1), (x,), (np.ones((3, 3)),))
    np.testing.assert_array_equal(dy, [0.0, 4.0, 31.0])


def test_prod_complex_with_zero(rng):
    z = random_array((4,), np.complex128, rng)
    z[2] = 0.0
    check_grads(np.prod, z)


# --- max and min: ties split evenly ----------------------------------------------------------


def test_max_ties_split_evenly():
    (g,) = wg.gradient(np.max, np.array([1.0, 3.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])


@pytest.mark.parametrize("fn", [np.max, np.amax, np.nanmax])
def test_max_ties_along_axis(fn):
    x = np.array([[1.0, 3.0, 3.0, 3.0], [2.0, 0.0, 2.0, 1.0]])
    (g,) = wg.gradient(lambda x: np.sum(fn(x, axis=1) * np.array([3.0, 2.0])), x)
    np.testing.assert_allclose(g, [[0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 0.0]])


@pytest.mark.parametrize("fn", [np.min, np.amin, np.nanmin])
def test_min_ties(fn):
    x = np.array([[4.0, -1.0], [-1.0, 5.0]])
    (g,) = wg.gradient(fn, x)
    np.testing.assert_array_equal(g, [[0.0, 0.5], [0.5, 0.0]])


def test_max_method_and_ufunc_reduce():
    x = np.array([[1.0, 7.0], [7.0, 2.0]])
    (g,) = wg.gradient(lambda x: x.max(), x)
    np.testing.assert_array_equal(g, [[0.0, 0.5], [0.5, 0.0]])
    (g,) = wg.gradient(lambda x: np.sum(np.maximum.reduce(x, axis=0)), x)
    np.testing.assert_array_equal(g, [[0.0, 1.0], [1.0, 0.0]])


def test_ptp_ties():
    (g,) = wg.gradient(np.ptp, np.array([2.0, 5.0, 2.0, 5.0, 3.0]))
    np.testing.assert_array_equal(g, [-0.5, 0.5, -0.5, 0.5, 0.0])


def test_max_tangent_is_the_mean_of_the_tied_tangents():
    _, dy = wg.jvp(np.max, (np.array([1.0, 3.0, 3.0]),), (np.array([5.0, 1.0, 3.0]),))
    assert dy == 2.0


@pytest.mark.parametrize("fn", [np.max, np.amin, np.nanmax, np.ptp])
def test_tie_split_agrees_between_modes(fn, rng):
    x = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, -1.0, 2.0, -1.0]])
    u, v = rng.standard_normal(x.shape), rng.standard_normal(2)
    (g,) = wg.gradient(lambda x: np.sum(fn(x, axis=1) * v), x)
    _, dy = wg.jvp(lambda x: fn(x, axis=1), (x,), (u,))
    assert np.sum(dy * v) == pytest.approx(np.sum(g * u), rel=1e-12)


def test_max_ignores_the_tangent_of_elements_not_chosen():
    # sqrt's derivative at 0 is infinite, but sqrt(0) is not the maximum: its tangent takes
    # no part (0, not 0 · inf = NaN).
    with np.errstate(divide="ignore"):
        _, dy = wg.jvp(lambda x: np.max(np.sqrt(x)), (np.array([0.0, 4.0]),), (np.ones(2),))
    assert dy == 0.25


def test_max_where_and_initial():
    x = np.array([1.0, 9.0, 4.0, 4.0])
    mask = np.array([True, False, True, True])
    (g,) = wg.gradient(lambda x: np.max(x, where=mask, initial=0.0), x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.5, 0.5])
    (g,) = wg.gradient(lambda x: np.max(x, initial=20.0), x)  # the initial value wins
    np.testing.assert_array_equal(g, np.zeros(4))


# --- var and std ------------------------------------------------------------------------------


def test_std_at_constant_input_is_zero_not_nan():
    x = np.full(4, 2.5)
    (g,) = wg.gradient(np.std, x)
    np.testing.assert_array_equal(g, np.zeros(4))
    (g,) = wg.gradient(lambda x: np.sum(np.std(x, axis=1, ddof=1)),
                       np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]))
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[0], np.zeros(3))


def test_std_tangent_at_constant_input_is_zero_not_nan(rng):
    _, dy = wg.jvp(np.std, (np.full(4, 2.5),), (rng.standard_normal(4),))
    assert dy == 0.0
    x = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    _, dy = wg.jvp(lambda x: np.std(x, axis=1, ddof=1), (x,), (rng.standard_normal((2, 3)),))
    assert dy[0] == 0.0 and np.isfinite(dy[1])


def test_std_second_order_at_constant_input_is_finite():
    hessian_row = wg.gradient(lambda x: wg.gradient(np.std, x)[0][0], np.full(3, 1.5))[0]
    np.testing.assert_array_equal(hessian_row, np.zeros(3))


def test_var_of_constant_has_zero_gradient():
    (g,) = wg.gradient(np.var, np.full(5, -3.0))
    np.testing.assert_array_equal(g, np.zeros(5))


def test_std_without_degrees_of_freedom_is_nan_as_documented():
    # ddof = n: the value itself is infinite/NaN, and so is the documented gradient.
    with np.errstate(divide="ignore", invalid="ignore"), pytest.warns(RuntimeWarning):
        (g,) = wg.gradient(lambda x: np.var(x, ddof=2), np.array([1.0, 2.0]))
    assert np.all(np.isnan(g))


def test_var_correction_keyword(rng):
    x = random_array((6,), np.float64, rng)
    check_grads(lambda x: np.var(x, correction=1), x)
    (g1,) = wg.gradient(lambda x: np.var(x, correction=1), x)
    (g2,) = wg.gradient(lambda x: np.var(x, ddof=1), x)
    np.testing.assert_allclose(g1, g2)
    with pytest.raises(ValueError, match="correction"):   # as NumPy refuses both at once
        wg.gradient(lambda x: np.var(x, ddof=1, correction=1), x)


# --- options: where=, dtype=, positional axis, methods ------------------------------------------


@pytest.mark.parametrize("fn", [np.sum, np.mean, np.prod, np.max, np.nansum, np.nanmean])
def test_where_masks_the_gradient(fn, rng):
    x = random_array((3, 4), np.float64, rng)
    mask = np.array([True, False, True, True])
    kwargs = {"initial": -10.0} if fn is np.max else {}
    check_grads(lambda x: fn(x, axis=1, where=mask, **kwargs), x)
    (g,) = wg.gradient(lambda x: np.sum(fn(x, axis=1, where=mask, **kwargs)), x)
    np.testing.assert_array_equal(g[:, 1], np.zeros(3))


def test_sum_dtype_keeps_the_input_dtype(rng):
    x = random_array((3, 4), np.float32, rng)
    (g,) = wg.gradient(lambda x: np.sum(x, dtype=np.float64), x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.ones((3, 4), np.float32))
    _, dy = wg.jvp(lambda x: np.sum(x, axis=0, dtype=np.float64), (x,), (np.ones_like(x),))
    assert dy.dtype == np.float64   # the tangent is the output's


def test_sum_initial_is_a_constant(rng):
    x, u = rng.standard_normal(3), rng.standard_normal(3)
    _, dy = wg.jvp(lambda x: np.sum(x, initial=5.0), (x,), (u,))
    assert dy == pytest.approx(np.sum(u), rel=1e-12)
    check_grads(lambda x: np.nansum(x, axis=0, initial=-2.0), x)


@pytest.mark.parametrize("fn", [np.nansum, np.nanmean, np.nanmax, np.nanmin, np.nanprod])
def test_nan_functions_ignore_the_tangent_at_nan(fn):
    # The NaN element takes no part in the value; even an infinite tangent there is ignored.
    _, dy = wg.jvp(fn, (np.array([1.0, np.nan, 2.0]),), (np.array([0.0, np.inf, 0.0]),))
    assert dy == 0.0


def test_methods_and_positional_axis(rng):
    x = random_array((3, 4), np.float64, rng)
    check_grads(lambda x: x.sum(0) + x.mean(1).sum() + x.prod(1).sum(), x)
    check_grads(lambda x: x.std(0, ddof=1) + x.var(axis=0) + np.cumsum(x, 1)[-1], x)
    check_grads(lambda x: np.add.reduce(x, axis=1) * np.multiply.reduce(x, 1), x)


def test_mean_gradient_values():
    (g,) = wg.gradient(lambda x: np.mean(x[:, :2]), np.ones((2, 3)))
    np.testing.assert_array_equal(g, [[0.25, 0.25, 0.0], [0.25, 0.25, 0.0]])


def test_unsupported_option_is_refused():
    with pytest.raises(wg.DifferentiationError, match="where"):
        wg.gradient(lambda x: np.var(x, where=np.array([True, False])), np.ones(2))


# --- forward mode: a one-element sparse tangent (OneHot) stays sparse ---------------------------

MASK = np.array([True, False, True, True])

# (function, keyword arguments), applied to an array of shape (2, 3, 4)
SPARSE_CASES = [
    (np.sum, {}), (np.sum, {"axis": 1}), (np.sum, {"axis": (0, -1), "keepdims": True}),
    (np.sum, {"keepdims": True}), (np.sum, {"axis": 1, "where": MASK}),
    (np.mean, {}), (np.mean, {"axis": -1}), (np.nansum, {"axis": 2}), (np.nanmean, {}),
    (np.nanmean, {"axis": 1, "keepdims": True}), (np.prod, {"axis": 0}), (np.prod, {}),
    (np.max, {"axis": 1}), (np.amin, {}), (np.nanmax, {"axis": (0, 1)}), (np.ptp, {"axis": 2}),
    (np.var, {"axis": 1, "ddof": 1}), (np.std, {}),
]


def one_hot_dense(position, shape):
    u = np.zeros(shape)
    u[position] = 1.0
    return u


@pytest.mark.parametrize("position", [(1, 2, 3), (0, 1, 0)])
@pytest.mark.parametrize("fn, kwargs", SPARSE_CASES,
                         ids=[f"{fn.__name__}-{'-'.join(k)}" for fn, k in SPARSE_CASES])
def test_one_hot_tangent_stays_sparse(fn, kwargs, position, rng):
    x = random_array((2, 3, 4), np.float64, rng)
    out, dy = forward_rules.generic[fn].impl([OneHot(position, x.shape)], x, **kwargs)
    _, expected = wg.jvp(lambda x: fn(x, **kwargs), (x,), (one_hot_dense(position, x.shape),))
    if np.ndim(out) == 0:
        assert not isinstance(dy, Indexed) and np.shape(dy) == ()  # one number
    else:
        assert isinstance(dy, Indexed) and dy.shape == out.shape
        dy = dy.to_dense()
    np.testing.assert_allclose(dy, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fn", [np.var, np.std, np.sum, np.prod])
def test_one_hot_tangent_of_a_complex_input(fn, rng):
    z = random_array((3, 4), np.complex128, rng)
    one_hot = OneHot((2, 1), z.shape, np.complex128)
    _, dy = forward_rules.generic[fn].impl([one_hot], z, axis=1)
    _, expected = wg.jvp(lambda z: fn(z, axis=1), (z,), (one_hot_dense((2, 1), z.shape),))
    assert isinstance(dy, Indexed)
    np.testing.assert_allclose(dy.to_dense(), expected, rtol=1e-12)


def test_a_tangent_of_many_elements_is_summed_without_a_dense_array():
    column = Indexed((slice(None), 1), np.array([1.0, 2.0]), (2, 3), np.float64)
    _, dy = forward_rules.generic[np.sum].impl([column], np.ones((2, 3)))
    assert dy == 3.0
    repeated = Indexed(np.array([0, 0, 2]), np.array(1.0), (3,), np.float64)  # x[[0, 0, 2]]
    _, dy = forward_rules.generic[np.mean].impl([repeated], np.ones(3))
    assert dy == pytest.approx(1.0)
    # Reductions along an axis densify such a tangent, and stay right.
    _, dy = forward_rules.generic[np.max].impl([column], np.arange(6.0).reshape(2, 3), axis=0)
    np.testing.assert_array_equal(dy, [0.0, 2.0, 0.0])


def test_a_partial_derivative_through_reductions_forms_no_dense_tangent(monkeypatch, rng):
    x = random_array((3, 4), np.float64, rng)
    f = lambda x: np.sum(np.mean(x, axis=1) * np.arange(3.0)) + np.var(x) + np.max(x)
    expected = wg.gradient(f, x)[0][1, 2]

    def refuse(t):
        raise AssertionError("a sparse tangent was made dense")

    monkeypatch.setattr(Indexed, "to_dense", refuse)
    assert wg.partial(f, x, index=(1, 2)) == pytest.approx(expected, rel=1e-12)
