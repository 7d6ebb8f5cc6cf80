"""Traced definitions of sorting and statistics (rules/quantiles.py, rules/statistics.py) in
both modes, checked against finite differences and against NumPy's values.

One spec table (STATISTICS: function of the arguments, argument shapes) drives the checks in
float32, float64 and complex128 (real dtypes only for quantile and percentile, which NumPy
refuses on complex data), the second-order checks with a nonlinear function after the
statistic (reverse over reverse, and reverse over forward through wg.jvp), and a check that
the value AD computes is NumPy's. The tests below pin every quantile method and the NaN
policy against NumPy, the derivative at ties, and the options that are refused.

Inputs are random normal draws, so no two elements tie and the order is stable under the
finite-difference steps. Weights are kept positive with ``positive``."""
import numpy as np
import pytest

import wengert as wg
from spec_helpers import random_args, sin_of_each
from wengert.errors import DifferentiationError
from wengert.testing import check_grads

DTYPES = (np.float32, np.float64, np.complex128)
QUANTILE_METHODS = (
    "inverted_cdf", "averaged_inverted_cdf", "closest_observation",
    "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
    "normal_unbiased", "lower", "higher", "nearest", "midpoint",
)


def positive(w):
    """Real weights bounded away from 0, smooth in ``w`` (also for complex ``w``)."""
    return 1 + np.real(w * np.conjugate(w))


def unit(q):
    """A quantile in (0, 1), smooth in ``q``."""
    return 1 / (1 + np.exp(-q))


# id: (function of the arguments, shapes of the arguments)
STATISTICS = {
    # sorting
    "sort": (np.sort, [(5,)]),
    "sort_axis_0": (lambda x: np.sort(x, axis=0), [(4, 3)]),
    "sort_axis_None": (lambda x: np.sort(x, axis=None), [(3, 4)]),
    "sort_stable": (lambda x: np.sort(x, stable=True), [(2, 3, 4)]),
    "sort_kind": (lambda x: np.sort(x, axis=1, kind="heapsort"), [(2, 3, 4)]),
    # median
    "median_odd": (np.median, [(5,)]),
    "median_even": (np.median, [(6,)]),
    "median_axis": (lambda x: np.median(x, axis=1), [(3, 4, 2)]),
    "median_axes_keepdims": (lambda x: np.median(x, axis=(0, 2), keepdims=True), [(3, 2, 5)]),
    "median_None_keepdims": (lambda x: np.median(x, keepdims=True), [(2, 3)]),
    # quantile
    "quantile": (lambda x: np.quantile(x, 0.3), [(7,)]),
    "quantile_q_array_axis": (lambda x: np.quantile(x, [0.1, 0.5, 0.9], axis=0), [(5, 3)]),
    "quantile_axes_keepdims": (
        lambda x: np.quantile(x, np.array([0.25, 0.8]), axis=(0, 2), keepdims=True),
        [(3, 2, 4)]),
    "quantile_ends": (lambda x: np.quantile(x, [0.0, 1.0], axis=-1), [(2, 5)]),
    "quantile_traced_q": (lambda x, q: np.quantile(x, unit(q), axis=-1), [(2, 6), (3,)]),
    "quantile_traced_scalar_q": (lambda x, q: np.quantile(x, unit(q)), [(6,), ()]),
    "quantile_hazen": (lambda x: np.quantile(x, [0.05, 0.6], method="hazen"), [(6,)]),
    "quantile_weibull": (lambda x, q: np.quantile(x, unit(q), method="weibull"), [(6,), (3,)]),
    "quantile_median_unbiased": (
        lambda x: np.quantile(x, 0.35, axis=1, method="median_unbiased"), [(2, 7)]),
    "quantile_averaged_inverted_cdf": (
        lambda x: np.quantile(x, [0.25, 0.4], method="averaged_inverted_cdf"), [(8,)]),
    "quantile_midpoint": (lambda x: np.quantile(x, [0.5, 0.6], method="midpoint"), [(5,)]),
    "quantile_nearest": (lambda x: np.quantile(x, [0.3, 0.9], axis=0, method="nearest"),
                         [(6, 2)]),
    "quantile_inverted_cdf": (lambda x: np.quantile(x, 0.5, method="inverted_cdf"), [(6,)]),
    # percentile
    "percentile": (lambda x: np.percentile(x, 40, axis=1), [(3, 5)]),
    "percentile_q_array_keepdims": (
        lambda x: np.percentile(x, [10.0, 75.0], axis=0, keepdims=True), [(4, 3)]),
    "percentile_traced_q": (lambda x, q: np.percentile(x, 100 * unit(q)), [(2, 4), (2,)]),
    "percentile_lower": (lambda x: np.percentile(x, [20, 70], method="lower"), [(6,)]),
    # average
    "average": (np.average, [(3, 4)]),
    "average_axis_returned": (lambda x: np.average(x, axis=1, returned=True), [(3, 4)]),
    "average_keepdims": (lambda x: np.average(x, axis=(0, 2), keepdims=True), [(2, 3, 2)]),
    "average_weights": (lambda x, w: np.average(x, weights=positive(w)), [(3, 4), (3, 4)]),
    "average_weights_1d": (
        lambda x, w: np.average(x, axis=0, weights=positive(w), returned=True),
        [(3, 4), (3,)]),
    "average_weights_axes_keepdims": (
        lambda x, w: np.average(x, axis=(2, 0), weights=positive(w), keepdims=True,
                                returned=True),
        [(2, 3, 4), (4, 2)]),
    # covariance
    "cov": (np.cov, [(3, 5)]),
    "cov_1d": (np.cov, [(6,)]),
    "cov_rowvar_False": (lambda m: np.cov(m, rowvar=False), [(6, 3)]),
    "cov_y": (lambda m, y: np.cov(m, y), [(2, 5), (5,)]),
    "cov_y_rowvar_False": (lambda m, y: np.cov(m, y, rowvar=False), [(5, 2), (5, 3)]),
    "cov_bias": (lambda m: np.cov(m, bias=True), [(3, 5)]),
    "cov_ddof": (lambda m: np.cov(m, ddof=2), [(3, 5)]),
    "cov_fweights": (lambda m: np.cov(m, fweights=[1, 3, 2, 1, 2]), [(3, 5)]),
    "cov_aweights": (lambda m, w: np.cov(m, aweights=positive(w)), [(3, 5), (5,)]),
    "cov_both_weights": (
        lambda m, w: np.cov(m, rowvar=False, ddof=1, fweights=np.array([2, 1, 1, 3]),
                            aweights=positive(w)),
        [(4, 2), (4,)]),
    "cov_dtype": (lambda m: np.cov(m, dtype=np.complex128), [(2, 4)]),
    "cov_dtype_kept": (lambda m: np.cov(m, dtype=m.dtype), [(2, 4)]),   # float32 stays float32
    # correlation
    "corrcoef": (np.corrcoef, [(3, 5)]),
    "corrcoef_y_rowvar_False": (lambda x, y: np.corrcoef(x, y, rowvar=False), [(5, 2), (5,)]),
    "corrcoef_one_variable": (np.corrcoef, [(5,)]),
}

# NumPy refuses complex data here (TypeError: a must be an array of real numbers).
REAL_ONLY = ("quantile", "percentile")


def _cases():
    return [pytest.param(name, dtype, id=f"{name}-{np.dtype(dtype).name}")
            for name in STATISTICS for dtype in DTYPES
            if np.dtype(dtype).kind != "c" or not name.startswith(REAL_ONLY)]


@pytest.mark.parametrize("name, dtype", _cases())
def test_statistics_derivatives(name, dtype, rng):
    fn, shapes = STATISTICS[name]
    check_grads(fn, *random_args(shapes, dtype, rng))


@pytest.mark.parametrize("name", list(STATISTICS))
def test_statistics_nest(name, rng):
    fn, shapes = STATISTICS[name]
    args = random_args(shapes, np.float64, rng)
    f = lambda *a: sin_of_each(fn(*a))
    check_grads(f, *args, order=2)
    us = random_args(shapes, np.float64, rng)
    check_grads(lambda *a: wg.jvp(f, a, us)[1], *args)


def _assert_same(got, expected, rtol):
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert np.shape(g) == np.shape(e)
        assert np.result_type(g) == np.result_type(e)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=0)


@pytest.mark.parametrize("name, dtype", _cases())
def test_statistics_values_are_numpys(name, dtype, rng):
    fn, shapes = STATISTICS[name]
    args = random_args(shapes, dtype, rng)
    value, _ = wg.pullback(fn, *args)
    # corrcoef is not clipped to [-1, 1], and cov sums its aweights in another order.
    _assert_same(value, fn(*args), rtol=1e-6 if np.dtype(dtype).itemsize <= 4 else 1e-13)


# --- quantiles: every method, every position, as NumPy computes them -------------------------


# NumPy's rounding of the weight of a Python-number q differs between versions (in the data's
# precision before 2.4.1, in double from 2.4.1 on): every kind of q is here.
@pytest.mark.parametrize("method", QUANTILE_METHODS)
@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("percent", [False, True], ids=["quantile", "percentile"])
def test_quantile_methods_match_numpy_exactly(method, dtype, percent, rng):
    x = rng.standard_normal((7, 3)).astype(dtype)
    qs = [0.0, 0.1, 1 / 3, 0.5, 0.62, 6 / 7, 1.0, 1, np.float64(0.1), np.float32(0.62),
          np.linspace(0, 1, 15), np.array([0.2, 0.9], np.float32), np.array([0, 1])]
    for q in qs:
        q = q * 100 if percent else q   # a Python number stays one
        fn = lambda x: (np.percentile if percent else np.quantile)(x, q, axis=0, method=method)
        value, _ = wg.pullback(fn, x)
        expected = fn(x)
        assert value.dtype == expected.dtype and value.shape == expected.shape, q
        np.testing.assert_array_equal(value, expected, err_msg=f"q={q}")


def test_quantile_gradient_in_q_is_the_slope_between_neighbours(rng):
    x = rng.standard_normal(6)
    s = np.sort(x)
    q = 0.37   # virtual index 5 * 0.37 = 1.85: between sorted[1] and sorted[2]
    (g,) = wg.gradient(lambda q: np.quantile(x, q), np.float64(q))
    np.testing.assert_allclose(g, 5 * (s[2] - s[1]))
    (gx,) = wg.gradient(lambda x: np.quantile(x, q), x)
    expected = np.zeros(6)
    expected[np.argsort(x)[[1, 2]]] = [0.15, 0.85]
    np.testing.assert_allclose(gx, expected)


def test_a_slice_holding_nan_gives_nan_as_in_numpy(rng):
    x = rng.standard_normal((3, 5))
    x[1, 2] = np.nan
    for fn in (lambda x: np.median(x, axis=1), lambda x: np.quantile(x, [0.2, 0.7], axis=1)):
        value, pullback = wg.pullback(fn, x)
        np.testing.assert_array_equal(value, fn(x))
        (g,) = pullback(np.ones_like(value))
        assert np.all(g[1] == 0) and np.all(np.isfinite(g))


# --- sorting and ties ------------------------------------------------------------------------


def test_sort_gradient_returns_each_cotangent_to_its_element(rng):
    x = rng.standard_normal(5)
    weights = np.arange(1.0, 6.0)
    (g,) = wg.gradient(lambda x: np.sum(np.sort(x) * weights), x)
    np.testing.assert_array_equal(g[np.argsort(x)], weights)


def test_median_at_ties_gives_a_subgradient():
    (g,) = wg.gradient(np.median, np.ones(4))
    assert g.sum() == 1 and np.all(g >= 0)


def test_cov_with_weights_matches_numpy(rng):
    m = rng.standard_normal((3, 6))
    fweights, aweights = np.array([1, 2, 1, 3, 1, 2]), rng.random(6) + 0.5
    fn = lambda m, a: np.cov(m, ddof=2, fweights=fweights, aweights=a)
    value, _ = wg.pullback(fn, m, aweights)
    np.testing.assert_allclose(value, fn(m, aweights), rtol=1e-13)


def test_average_weights_total_is_returned(rng):
    x, w = rng.standard_normal((3, 4)), rng.random(4) + 0.5
    (average, total), _ = wg.pullback(lambda x: np.average(x, axis=1, weights=w,
                                                            returned=True), x)
    np.testing.assert_allclose(total, np.full(3, w.sum()))
    np.testing.assert_allclose(average, x @ w / w.sum())


# --- refused options -------------------------------------------------------------------------

REFUSED = {
    "np.sort": lambda x: np.sort(x, order="field"),
    "np.quantile": lambda x: np.quantile(x, 0.5, method="inverted_cdf", weights=np.ones(4)),
    "np.percentile": lambda x: np.percentile(x, 50, method="inverted_cdf",
                                             weights=np.ones(4)),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_unsupported_options_are_refused_by_name(name, rng):
    with pytest.raises(DifferentiationError, match=name.replace(".", r"\.")) as info:
        wg.gradient(REFUSED[name], rng.standard_normal(4))
    assert "wg." in str(info.value)   # a way out: stop_gradient or a rule


def test_out_is_refused(rng):
    # The tracer's __array_function__ refuses out= before any definition runs.
    for name, fn in (("np.median", lambda x: np.median(x, out=np.empty(()))),
                     ("np.quantile", lambda x: np.quantile(x, 0.5, out=np.empty(())))):
        with pytest.raises(DifferentiationError, match=name.replace(".", r"\.")):
            wg.gradient(fn, rng.standard_normal(4))


def test_quantile_refuses_complex_and_bad_q_as_numpy_does(rng):
    with pytest.raises(TypeError, match="real numbers"):
        wg.pullback(lambda x: np.quantile(x, 0.5), rng.standard_normal(3) + 1j)
    with pytest.raises(ValueError, match=r"range \[0, 100\]"):
        wg.pullback(lambda x: np.percentile(x, 120), rng.standard_normal(3))
    with pytest.raises(ValueError, match="valid method"):
        wg.pullback(lambda x: np.quantile(x, 0.5, method="cubic"), rng.standard_normal(3))
