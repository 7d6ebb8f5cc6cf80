"""Reverse rules of the reductions (rules/reductions.py), checked against finite differences.

One spec table (REDUCTIONS) drives the checks over shapes, every form of ``axis``,
``keepdims`` and dtypes; the tests below it pin the policies at awkward points: zeros in
prod/cumprod, ties in max/min, std at a constant input."""
import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_grads

REVERSE = ("reverse",)
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
def test_reduction_gradients(name, shape, axis, dtype, keepdims, rng):
    fn, make, _, extra = REDUCTIONS[name]
    x = make(shape, dtype, rng)
    check_grads(lambda x: fn(x, axis=axis, keepdims=keepdims, **extra), x, modes=REVERSE)


# Second derivatives: the reduction's pullback must itself be differentiable. A nonlinear
# function after the reduction makes the pullback receive a traced cotangent.
@pytest.mark.parametrize("name", list(REDUCTIONS))
@pytest.mark.parametrize("shape, axis", [((3, 4), 1), ((2, 3, 4), (0, -1))])
def test_reduction_second_order(name, shape, axis, rng):
    fn, make, _, extra = REDUCTIONS[name]
    x = make(shape, np.float64, rng)
    check_grads(lambda x: np.sin(fn(x, axis=axis, **extra)), x, modes=REVERSE, order=2)


@pytest.mark.parametrize("fn", [np.prod, np.var, np.std])
def test_reduction_second_order_complex(fn, rng):
    x = random_array((2, 3), np.complex128, rng)
    check_grads(lambda x: fn(x, axis=0), x, modes=REVERSE, order=2)


# --- cumulative functions -------------------------------------------------------------------

CUMULATIVE = {"cumsum": np.cumsum, "cumprod": np.cumprod}
SCAN_AXES = [((6,), None), ((6,), 0), ((3, 4), None), ((3, 4), 0), ((3, 4), -1),
             ((2, 3, 5), 1), ((2, 3, 5), -3), ((), None)]


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("shape, axis", SCAN_AXES)
@pytest.mark.parametrize("name", list(CUMULATIVE))
def test_cumulative_gradients(name, shape, axis, dtype, rng):
    x = random_array(shape, dtype, rng)
    check_grads(lambda x: CUMULATIVE[name](x, axis=axis), x, modes=REVERSE)


@pytest.mark.parametrize("name", list(CUMULATIVE))
def test_cumulative_second_order(name, rng):
    x = random_array((3, 5), np.float64, rng)
    check_grads(lambda x: np.sin(CUMULATIVE[name](x, axis=1)), x, modes=REVERSE, order=2)


@pytest.mark.skipif(not hasattr(np, "cumulative_sum"), reason="NumPy < 2.1")
@pytest.mark.parametrize("include_initial", [False, True])
@pytest.mark.parametrize("fn_name", ["cumulative_sum", "cumulative_prod"])
def test_array_api_cumulative(fn_name, include_initial, rng):
    fn = getattr(np, fn_name)
    x = random_array((3, 4), np.float64, rng)
    check_grads(lambda x: fn(x, axis=1, include_initial=include_initial), x, modes=REVERSE)
    v = random_array((5,), np.float64, rng)
    check_grads(lambda v: fn(v, include_initial=include_initial), v, modes=REVERSE)


# --- prod and cumprod with zeros: no division by x -------------------------------------------


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
    check_grads(lambda x: np.prod(x, axis=axis), x, modes=REVERSE, order=2)


def test_cumprod_with_zeros(rng):
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    (g,) = wg.gradient(lambda x: np.sum(np.cumprod(x)), x)
    # d/dx0 = 1 + x1 + ..., d/dx1 = x0 (1 + x2 + x2 x3 + ...) and the rest vanish.
    np.testing.assert_array_equal(g, [1.0, 8.0, 0.0, 0.0, 0.0])
    y = random_array((3, 6), np.float64, rng)
    y[0, 2] = y[1, 0] = y[1, 4] = 0.0
    check_grads(lambda y: np.cumprod(y, axis=1), y, modes=REVERSE, order=2)


def test_prod_complex_with_zero(rng):
    z = random_array((4,), np.complex128, rng)
    z[2] = 0.0
    check_grads(np.prod, z, modes=REVERSE)


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
    check_grads(lambda x: np.var(x, correction=1), x, modes=REVERSE)
    (g1,) = wg.gradient(lambda x: np.var(x, correction=1), x)
    (g2,) = wg.gradient(lambda x: np.var(x, ddof=1), x)
    np.testing.assert_allclose(g1, g2)


# --- options: where=, dtype=, positional axis, methods ------------------------------------------


@pytest.mark.parametrize("fn", [np.sum, np.mean, np.prod, np.max, np.nansum, np.nanmean])
def test_where_masks_the_gradient(fn, rng):
    x = random_array((3, 4), np.float64, rng)
    mask = np.array([True, False, True, True])
    kwargs = {"initial": -10.0} if fn is np.max else {}
    check_grads(lambda x: fn(x, axis=1, where=mask, **kwargs), x, modes=REVERSE)
    (g,) = wg.gradient(lambda x: np.sum(fn(x, axis=1, where=mask, **kwargs)), x)
    np.testing.assert_array_equal(g[:, 1], np.zeros(3))


def test_sum_dtype_keeps_the_input_dtype(rng):
    x = random_array((3, 4), np.float32, rng)
    (g,) = wg.gradient(lambda x: np.sum(x, dtype=np.float64), x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.ones((3, 4), np.float32))


def test_methods_and_positional_axis(rng):
    x = random_array((3, 4), np.float64, rng)
    check_grads(lambda x: x.sum(0) + x.mean(1).sum() + x.prod(1).sum(), x, modes=REVERSE)
    check_grads(lambda x: x.std(0, ddof=1) + x.var(axis=0) + np.cumsum(x, 1)[-1], x,
                modes=REVERSE)
    check_grads(lambda x: np.add.reduce(x, axis=1) * np.multiply.reduce(x, 1), x,
                modes=REVERSE)


def test_mean_gradient_values():
    (g,) = wg.gradient(lambda x: np.mean(x[:, :2]), np.ones((2, 3)))
    np.testing.assert_array_equal(g, [[0.25, 0.25, 0.0], [0.25, 0.25, 0.0]])


def test_unsupported_option_is_refused():
    with pytest.raises(wg.DifferentiationError, match="where"):
        wg.gradient(lambda x: np.var(x, where=np.array([True, False])), np.ones(2))
