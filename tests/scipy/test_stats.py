"""scipy.stats distributions: derivatives in x and the parameters against finite differences
in both modes, second derivatives in all four nestings, values against SciPy's, frozen forms,
keywords, broadcasting, points outside the support, and the errors for what has no
derivative."""
import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.stats as stats  # noqa: E402

import wengert as wg  # noqa: E402
from wengert.testing import check_grads  # noqa: E402

METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
MASS_METHODS = ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf")

# name: (points x inside the support for loc=0.3, scale=1.7; shape parameters; whether the
# cumulative functions are differentiable in the shapes)
CONTINUOUS = {
    "norm": ([-2.1, -0.4, 0.3, 1.2, 3.5], (), True),
    "t": ([-2.1, -0.4, 0.3, 1.2, 3.5], (3.5,), False),
    "gamma": ([0.5, 1.1, 2.0, 4.9], (2.5,), False),
    "beta": ([0.42, 0.9, 1.3, 1.8], (2.5, 1.7), False),
    "expon": ([0.5, 1.1, 2.0, 4.9], (), True),
    "laplace": ([-2.1, -0.4, 0.9, 3.5], (), True),
    "logistic": ([-2.1, -0.4, 0.3, 1.2, 3.5], (), True),
    "cauchy": ([-4.1, -0.4, 0.3, 1.2, 3.5], (), True),
    "chi2": ([0.5, 1.1, 2.0, 4.9], (3.0,), False),
}
LOC, SCALE = 0.3, 1.7


def _original(dist, method):
    """SciPy's own method, beneath wengert's door."""
    return getattr(type(dist), method)._scipy_method.__get__(dist)


# --- first derivatives: every continuous distribution and method, both modes -------------------

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", CONTINUOUS)
def test_continuous_derivatives(name, method):
    dist = getattr(stats, name)
    points, shapes, shapes_differentiable = CONTINUOUS[name]
    x = np.array(points)
    if shapes_differentiable or method in ("logpdf", "pdf"):
        check_grads(lambda x, loc, scale, *s: getattr(dist, method)(x, *s, loc, scale),
                    x, LOC, SCALE, *shapes)
    else:
        check_grads(lambda x, loc, scale: getattr(dist, method)(x, *shapes, loc, scale),
                    x, LOC, SCALE)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # SciPy's too: at inf and on bounds
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", CONTINUOUS)
def test_continuous_values(name, method):
    dist = getattr(stats, name)
    points, shapes, _ = CONTINUOUS[name]
    # with points outside the support and on its bounds, and invalid parameters (NaN)
    x = np.array(points + [-7.0, LOC, LOC + SCALE, 80.0, np.inf, -np.inf, np.nan])
    scale = np.array([[SCALE], [-1.0]])
    expected = _original(dist, method)(x, *shapes, LOC, scale)
    plain = getattr(dist, method)(x, *shapes, LOC, scale)
    assert np.array_equal(plain, expected, equal_nan=True)   # no tracer: SciPy's own result
    traced, _ = wg.jvp(lambda x: getattr(dist, method)(x, *shapes, LOC, scale),
                       (x,), (np.ones_like(x),))
    assert traced.dtype == expected.dtype and traced.shape == expected.shape
    np.testing.assert_allclose(traced, expected, rtol=1e-12, atol=0)


def test_shapes_by_keyword_and_frozen():
    x = np.array([0.4, 1.3, 2.2])
    spellings = [
        lambda x, a, loc, scale: stats.gamma.logpdf(x, a, loc, scale),
        lambda x, a, loc, scale: stats.gamma.logpdf(x, a=a, loc=loc, scale=scale),
        lambda x, a, loc, scale: stats.gamma.logpdf(x=x, scale=scale, a=a, loc=loc),
        lambda x, a, loc, scale: stats.gamma(a, loc=loc, scale=scale).logpdf(x),
        lambda x, a, loc, scale: stats.gamma(scale=scale, loc=loc, a=a).logpdf(x),
    ]
    expected = wg.gradient(lambda *a: np.sum(spellings[0](*a)), x, 2.5, 0.1, 1.4)
    for f in spellings[1:]:
        got = wg.gradient(lambda *a: np.sum(f(*a)), x, 2.5, 0.1, 1.4)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-14)
    check_grads(lambda x, loc, scale: stats.norm(loc, scale=scale).cdf(x), x, 0.2, 1.5)
    check_grads(lambda x, df, loc: stats.t(df, loc=loc).logpdf(x), x, 4.0, 0.5)
    check_grads(lambda x, loc: stats.t(4.0, loc=loc).logsf(x), x, 0.5)


def test_traced_values_inside_lists_and_infinite_df():
    check_grads(lambda a, b: stats.norm.logpdf([a, b], loc=[0.2, b]), 0.7, -0.4)
    x = np.array([-1.2, 0.3, 2.0])
    traced = wg.jvp(lambda x: stats.t.logpdf(x, np.inf), (x,), (np.ones(3),))
    np.testing.assert_allclose(traced[0], stats.t.logpdf(x, np.inf), rtol=1e-12)
    np.testing.assert_allclose(traced[1], -x, rtol=1e-13)      # the normal's score
    (g,) = wg.gradient(lambda x: np.sum(stats.t.pdf(x, [np.inf, 3.0, np.inf])), x)
    np.testing.assert_allclose(g[[0, 2]], -x[[0, 2]] * stats.norm.pdf(x[[0, 2]]), rtol=1e-13)


def test_broadcasting_x_against_parameters():
    x = np.array([[0.5], [1.2], [2.4]])                  # (3, 1)
    loc = np.array([0.1, -0.2])                          # (2,)
    scale = np.array([[1.5, 0.8]])                       # (1, 2)
    check_grads(lambda x, a, loc, scale: stats.gamma.logpdf(x, a, loc, scale),
                x, np.array([1.5, 3.0]), loc, scale)
    check_grads(lambda x, loc, scale: stats.norm.logcdf(x, loc, scale), x, loc, scale)
    check_grads(lambda x, df, scale: stats.t.pdf(x, df, scale=scale), x, np.array([2.0, 5.0]),
                scale)


def test_float32_arguments():
    x32 = np.array([0.4, 1.3, 2.2], np.float32)
    for method in ("logpdf", "cdf"):
        f = getattr(stats.gamma, method)
        assert f(x32, 2.5).dtype == np.float64                   # SciPy computes in float64
        value, (gx, gloc) = wg.withgradient(lambda x, loc: np.sum(f(x, 2.5, loc)),
                                            x32, np.float32(0.1))
        assert gx.dtype == np.float32 and isinstance(gloc, np.float32)
        gx64, gloc64 = wg.gradient(lambda x, loc: np.sum(f(x, 2.5, loc)),
                                   x32.astype(np.float64), 0.1)
        np.testing.assert_allclose(gx, gx64, rtol=1e-5)
        np.testing.assert_allclose(gloc, gloc64, rtol=1e-5)
        traced = wg.jvp(lambda x: f(x, 2.5, 0.1), (x32,), (np.ones_like(x32),))[0]
        assert traced.dtype == np.float64
        np.testing.assert_allclose(traced, f(x32, 2.5, 0.1), rtol=1e-12)


# --- outside the support, invalid parameters ------------------------------------------------

@pytest.mark.parametrize("method", ["logpdf", "pdf", "cdf", "logsf"])
def test_points_outside_the_support_leak_nothing(method):
    # gamma at x < 0: logpdf -inf, pdf 0, cdf 0, logsf 0; the points inside keep theirs
    f = getattr(stats.gamma, method)

    def total(x, scale):
        return np.sum(f(x, 2.5, scale=scale))

    x = np.array([-1.0, 0.5, 2.0])
    expected = wg.gradient(total, x[1:], 1.3)
    for mode in ("reverse", "forward"):
        gx, gscale = wg.jacobian(total, x, 1.3, mode=mode)
        assert gx[0] == 0
        np.testing.assert_allclose(gx[1:], expected[0], rtol=1e-13)
        np.testing.assert_allclose(gscale, expected[1], rtol=1e-13)


def test_outside_the_support_logpdf_has_a_zero_cotangent():
    x = np.array([-1.0, 0.5, 1.5])
    value, back = wg.pullback(lambda x, a, b: stats.beta.logpdf(x, a, b, scale=2.0), x, 2.0, 3.0)
    assert value[0] == -np.inf
    gx, ga, gb = back(np.ones(3))
    assert gx[0] == 0 and np.all(np.isfinite([*gx, ga, gb]))
    ex, ea, eb = wg.gradient(lambda x, a, b: np.sum(stats.beta.logpdf(x, a, b, scale=2.0)),
                             x[1:], 2.0, 3.0)
    np.testing.assert_allclose(gx[1:], ex, rtol=1e-13)
    np.testing.assert_allclose([ga, gb], [ea, eb], rtol=1e-13)


def test_invalid_parameters_give_nan_and_leave_the_others_alone():
    x = np.array([0.5, 1.5])
    scale = np.array([[-1.0], [2.0]])      # the first row is invalid: NaN, as in SciPy
    value, back = wg.pullback(lambda x, s: stats.gamma.logpdf(x, 2.0, scale=s), x, scale)
    assert np.all(np.isnan(value[0])) and np.all(np.isfinite(value[1]))
    gx, gs = back(np.array([[0.0, 0.0], [1.0, 1.0]]))
    ex, es = wg.gradient(lambda x, s: np.sum(stats.gamma.logpdf(x, 2.0, scale=s)), x, 2.0)
    np.testing.assert_allclose(gx, ex, rtol=1e-13)
    np.testing.assert_allclose(gs[1, 0], es, rtol=1e-13)


# --- second derivatives, all four nestings --------------------------------------------------

def _hessians(f, v):
    """The Hessian of scalar f at vector v four ways: reverse/forward over reverse/forward."""
    def grad_reverse(v):
        return wg.gradient(f, v)[0]

    def grad_forward(v):
        return wg.jacobian(f, v, mode="forward")[0]

    return {
        "rev∘rev": wg.jacobian(grad_reverse, v, mode="reverse")[0],
        "fwd∘rev": wg.jacobian(grad_reverse, v, mode="forward")[0],
        "rev∘fwd": wg.jacobian(grad_forward, v, mode="reverse")[0],
        "fwd∘fwd": wg.jacobian(grad_forward, v, mode="forward")[0],
    }


def _check_hessians(f, v, rtol=1e-6):
    v = np.asarray(v, dtype=float)
    h = 1e-5
    grad = lambda v: wg.gradient(f, v)[0]   # noqa: E731 (first order is checked elsewhere)
    fd = np.stack([(grad(v + h * e) - grad(v - h * e)) / (2 * h) for e in np.eye(len(v))], 1)
    for nesting, hessian in _hessians(f, v).items():
        np.testing.assert_allclose(hessian, fd, rtol=rtol, atol=1e-7 * np.max(np.abs(fd)),
                                   err_msg=nesting)


# (distribution, method, v = [x, *shapes, loc, scale]); several hold exact 0s and 1s: z = 0,
# shape 1 (xlogy(0, z)), scale 1 (log 1), beta(1, 1) whose density is 1
SECOND_ORDER = [
    ("norm", "logpdf", [0.7, 0.2, 1.3]), ("norm", "logpdf", [0.0, 0.0, 1.0]),
    ("norm", "logcdf", [-0.4, 0.2, 1.3]), ("norm", "cdf", [1.0, 1.0, 1.0]),
    ("t", "logpdf", [0.7, 3.5, 0.2, 1.3]), ("t", "logpdf", [0.0, 1.0, 0.0, 1.0]),
    ("gamma", "logpdf", [1.7, 2.5, 0.2, 1.3]), ("gamma", "logpdf", [1.0, 1.0, 0.0, 1.0]),
    ("gamma", "pdf", [1.7, 2.5, 0.2, 1.3]),
    ("beta", "logpdf", [0.4, 2.5, 1.7, 0.0, 1.0]), ("beta", "pdf", [0.5, 1.0, 1.0, 0.0, 1.0]),
    ("expon", "logcdf", [0.9, 0.2, 1.3]), ("logistic", "logpdf", [0.0, 0.0, 1.0]),
    ("cauchy", "logpdf", [2.9, 0.2, 1.3]), ("chi2", "logpdf", [2.2, 3.0, 0.0, 1.0]),
]


@pytest.mark.parametrize("name, method, v", SECOND_ORDER)
def test_second_derivatives(name, method, v):
    dist = getattr(stats, name)
    _check_hessians(lambda v: getattr(dist, method)(v[0], *v[1:]), v)


def test_second_derivatives_of_cumulative_functions_in_x():
    # t and gamma cdfs: twice differentiable in x, loc and scale (their shapes are constants)
    _check_hessians(lambda v: stats.t.cdf(v[0], 3.5, v[1], v[2]), [0.7, 0.2, 1.3])
    _check_hessians(lambda v: stats.gamma.logsf(v[0], 2.5, v[1], v[2]), [1.7, 0.2, 1.3])
    _check_hessians(lambda v: stats.beta.sf(v[0], 2.5, 1.7, v[1], v[2]), [0.7, 0.2, 1.3])


@pytest.mark.parametrize("method, v", [("logpmf", [2.3]), ("logpmf", [1.0]), ("pmf", [2.3]),
                                       ("cdf", [2.3]), ("logsf", [1.0])])
def test_second_derivatives_poisson(method, v):
    k = np.array([0.0, 1.0, 4.0])   # k = 0: xlogy(0, mu)
    _check_hessians(lambda v: np.sum(getattr(stats.poisson, method)(k, v[0])), v)


def test_second_derivatives_binom():
    k = np.array([0.0, 3.0, 8.0])   # k = 0 and k = n: the 0 · log terms
    _check_hessians(lambda v: np.sum(stats.binom.logpmf(k, 8, v[0])), [0.5])
    _check_hessians(lambda v: np.sum(stats.binom.cdf(k, 8, v[0])), [0.35])


# --- discrete distributions ---------------------------------------------------------------

DISCRETE = {   # name: (k, the shapes before the differentiable one, its value)
    "poisson": ([0, 1, 3, 7], (), 2.3),
    "binom": ([0, 2, 5, 8], (8,), 0.35),
    "bernoulli": ([0, 1], (), 0.3),
}


@pytest.mark.parametrize("method", MASS_METHODS)
@pytest.mark.parametrize("name", DISCRETE)
def test_discrete_derivatives(name, method):
    dist = getattr(stats, name)
    k, counts, p = DISCRETE[name]
    k = np.array(k, dtype=float)
    k = k[np.isfinite(getattr(dist, method)(k, *counts, p))]   # logsf(n) = -inf: no derivative
    check_grads(lambda p: getattr(dist, method)(k, *counts, p), p)
    check_grads(lambda p: getattr(dist, method)(k[:, None], *counts, p),
                np.array([p, p / 2]))                                     # broadcasting
    check_grads(lambda p: getattr(dist(*counts, p), method)(k), p)       # frozen
    check_grads(lambda p: getattr(dist, method)(k + 2, *counts, p, loc=2), p)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("method", MASS_METHODS)
@pytest.mark.parametrize("name", DISCRETE)
def test_discrete_values(name, method):
    dist = getattr(stats, name)
    k, counts, p = DISCRETE[name]
    k = np.array(k + [-1, 0.5, 9, 30, np.inf, np.nan], dtype=float)
    p = np.array([[p], [-0.5]])   # the second row is invalid: NaN
    expected = _original(dist, method)(k, *counts, p)
    assert np.array_equal(getattr(dist, method)(k, *counts, p), expected, equal_nan=True)
    traced = wg.jvp(lambda p: getattr(dist, method)(k, *counts, p), (p,), (np.ones_like(p),))[0]
    assert traced.dtype == expected.dtype and traced.shape == expected.shape
    np.testing.assert_allclose(traced, expected, rtol=1e-12, atol=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # log(0) at mu = 0 for k = 2
def test_discrete_at_the_ends_of_the_parameter_range():
    # mu = 0 and p = 0 or 1 are allowed; the derivative there is one-sided
    k = np.array([0.0, 2.0])
    assert wg.gradient(lambda mu: stats.poisson.logpmf(k, mu)[0], 0.0) == (-1.0,)
    assert wg.derivative(lambda p: stats.binom.logpmf(0.0, 5, p), 0.0) == -5.0
    assert wg.derivative(lambda p: stats.binom.logpmf(5.0, 5, p), 1.0) == 5.0


# --- multivariate_normal ------------------------------------------------------------------

def _covariance(a):
    return a @ a.T + np.eye(a.shape[0])


@pytest.fixture
def mvn_data(rng):
    d = 3
    return rng.standard_normal((4, d)), rng.standard_normal(d), 0.5 * rng.standard_normal((d, d))


def test_multivariate_normal_derivatives(mvn_data):
    x, mean, a = mvn_data
    for method in ("logpdf", "pdf"):
        f = getattr(stats.multivariate_normal, method)
        check_grads(lambda x, mean, a: f(x, mean, _covariance(a)), x, mean, a)
        check_grads(lambda x, mean, a: f(x, mean=mean, cov=_covariance(a)), x[0], mean, a)
    variances = np.array([0.5, 1.2, 2.0])
    check_grads(lambda x, mean, c: stats.multivariate_normal.logpdf(x, mean, c), x, mean,
                variances)
    check_grads(lambda x, mean, c: stats.multivariate_normal.logpdf(x, mean, c), x, mean, 1.7)
    check_grads(lambda x, m, c: stats.multivariate_normal.logpdf(x, m, c),   # dimension 1
                np.array([0.2, -1.0, 0.7]), 0.3, 1.5)


def test_multivariate_normal_values(mvn_data):
    x, mean, a = mvn_data
    for cov in (_covariance(a), np.array([0.5, 1.2, 2.0]), 1.7):
        for args in ((x, mean, cov), (x[0], mean, cov)):
            expected = _original(stats.multivariate_normal, "logpdf")(*args)
            traced = wg.jvp(lambda x: stats.multivariate_normal.logpdf(x, *args[1:]),
                            (args[0],), (np.ones_like(args[0]),))[0]
            assert np.shape(traced) == np.shape(expected)
            np.testing.assert_allclose(traced, expected, rtol=1e-12)
    expected = stats.multivariate_normal.pdf(0.4, 0.1, 2.0)
    np.testing.assert_allclose(wg.jvp(lambda m: stats.multivariate_normal.pdf(0.4, m, 2.0),
                                      (0.1,), (1.0,))[0], expected, rtol=1e-12)


def test_multivariate_normal_float32(mvn_data):
    x, mean, a = mvn_data
    cov = _covariance(a)
    g32 = wg.gradient(lambda x: np.sum(stats.multivariate_normal.logpdf(x, mean, cov)),
                      x.astype(np.float32))[0]
    g64 = wg.gradient(lambda x: np.sum(stats.multivariate_normal.logpdf(x, mean, cov)),
                      x.astype(np.float32).astype(np.float64))[0]
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g64, rtol=1e-5)


def test_multivariate_normal_cov_gradient_is_symmetric(mvn_data):
    x, mean, a = mvn_data
    cov = _covariance(a)
    (g,) = wg.gradient(lambda c: stats.multivariate_normal.logpdf(x[0], mean, c), cov)
    inverse = np.linalg.inv(cov)
    d = x[0] - mean
    expected = -0.5 * (inverse - inverse @ np.outer(d, d) @ inverse)
    np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)
    (t,) = wg.jvp(lambda c: stats.multivariate_normal.logpdf(x[0], mean, c), (cov,),
                  (np.eye(3),))[1:]
    np.testing.assert_allclose(t, np.trace(expected), rtol=1e-10)


def test_multivariate_normal_frozen(mvn_data):
    x, mean, a = mvn_data
    check_grads(lambda x, mean, a: stats.multivariate_normal(mean, _covariance(a)).logpdf(x),
                x, mean, a)
    frozen = stats.multivariate_normal(mean, _covariance(a))      # constants, x traced
    check_grads(lambda x: frozen.logpdf(x) + frozen.pdf(x), x)
    rv = wg.gradient(lambda m: stats.multivariate_normal(m, _covariance(a)).logpdf(x[0]), mean)
    np.testing.assert_allclose(rv[0], np.linalg.solve(_covariance(a), x[0] - mean), rtol=1e-10)


def test_multivariate_normal_second_derivatives(mvn_data):
    x, mean, a = mvn_data   # in two dimensions: the Hessian in (mean, a) is 6 x 6
    _check_hessians(lambda v: np.sum(stats.multivariate_normal.logpdf(
        x[:2, :2], v[:2], _covariance(np.reshape(v[2:], (2, 2))))),
        np.concatenate([mean[:2], a[:2, :2].ravel()]), rtol=1e-5)


# --- dirichlet ----------------------------------------------------------------------------

def test_dirichlet_derivatives():
    alpha = np.array([1.5, 2.0, 0.8])
    x = np.array([0.2, 0.3, 0.5])
    xs = np.array([[0.2, 0.6], [0.3, 0.1], [0.5, 0.3]])      # two points, along the columns
    for method in ("logpdf", "pdf"):
        f = getattr(stats.dirichlet, method)
        check_grads(lambda alpha: f(x, alpha), alpha)
        check_grads(lambda alpha: f(xs, alpha), alpha)
        check_grads(lambda head, alpha: f(head, alpha), x[:2], alpha)   # the last is 1 - sum
        check_grads(lambda heads, alpha: f(heads, alpha), xs[:2], alpha)
        check_grads(lambda w, alpha: f(w / np.sum(w), alpha), x * 3, alpha)
    check_grads(lambda alpha: stats.dirichlet(alpha).logpdf(xs), alpha)             # frozen
    check_grads(lambda head: stats.dirichlet(alpha).logpdf(head), x[:2])


def test_dirichlet_values_and_second_derivatives():
    alpha = np.array([1.5, 1.0, 0.8])                        # alpha = 1: xlogy(0, x)
    xs = np.array([[0.2, 0.6], [0.3, 0.1], [0.5, 0.3]])
    expected = _original(stats.dirichlet, "logpdf")(xs, alpha)
    traced = wg.jvp(lambda a: stats.dirichlet.logpdf(xs, a), (alpha,), (np.ones(3),))[0]
    np.testing.assert_allclose(traced, expected, rtol=1e-12)
    _check_hessians(lambda v: np.sum(stats.dirichlet.logpdf(
        np.stack([v[3:5], 1 - v[3:5] - 0.1]), v[:3])), [1.5, 1.0, 0.8, 0.3, 0.2])


def test_dirichlet_checks_its_input_as_scipy_does():
    with pytest.raises(ValueError, match="simplex"):
        wg.gradient(lambda a: stats.dirichlet.logpdf(np.array([0.2, 0.3, 0.6]), a),
                    np.ones(3))


# --- what has no derivative -----------------------------------------------------------------

@pytest.mark.parametrize("call, names", [
    (lambda a: stats.gamma.cdf(1.0, a), ("scipy.stats.gamma.cdf", "in a:", "incomplete gamma")),
    (lambda df: stats.t.sf(0.3, df), ("scipy.stats.t.sf", "in df:", "incomplete beta")),
    (lambda b: stats.beta.logcdf(0.3, 2.0, b=b), ("scipy.stats.beta.logcdf", "in b:")),
    (lambda df: stats.chi2(df).logsf(2.0), ("scipy.stats.chi2.logsf", "in df:")),
    (lambda k: stats.poisson.logpmf(k, 2.0), ("scipy.stats.poisson.logpmf", "in k:", "count")),
    (lambda n: stats.binom.pmf(2.0, n, 0.3), ("scipy.stats.binom.pmf", "in n:")),
    (lambda loc: stats.poisson.cdf(3.0, 2.0, loc=loc), ("scipy.stats.poisson.cdf", "in loc:")),
])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_no_derivative_is_a_clear_error(call, names, mode):
    with pytest.raises(wg.DifferentiationError) as error:
        if mode == "reverse":
            wg.gradient(call, 3.0)
        else:
            wg.derivative(call, 3.0)
    message = str(error.value)
    assert all(n in message for n in names) and "wg.stop_gradient" in message


def test_shapes_of_cumulative_functions_as_constants():
    # the way out the error names: the shape as a constant, x still traced
    g = wg.gradient(lambda x, a: stats.gamma.cdf(x, wg.stop_gradient(a)), 1.2, 2.5)
    np.testing.assert_allclose(g[0], stats.gamma.pdf(1.2, 2.5), rtol=1e-13)
    assert g[1] == 0.0


def test_other_errors():
    with pytest.raises(wg.DifferentiationError, match="erlang"):   # a subclass: no definition
        wg.gradient(lambda x: stats.erlang.logpdf(x, 2), 1.0)
    with pytest.raises(wg.DifferentiationError, match="ppf"):
        wg.gradient(lambda q: stats.norm.ppf(q), 0.3)
    with pytest.raises(TypeError, match="scipy.stats.norm.logpdf"):
        wg.gradient(lambda x: stats.norm.logpdf(x, shape=2.0), 1.0)
    with pytest.raises(wg.DifferentiationError, match="Covariance"):
        cov = stats.Covariance.from_diagonal([1.0, 2.0])
        wg.gradient(lambda x: stats.multivariate_normal.logpdf(x, cov=cov), np.zeros(2))
    with pytest.raises(wg.DifferentiationError, match="rvs"):
        wg.gradient(lambda m: stats.multivariate_normal(m).rvs(), np.zeros(2))
    with pytest.raises(wg.DifferentiationError, match="positive definite"):
        wg.gradient(lambda c: stats.multivariate_normal.logpdf(np.zeros(2), cov=c,
                                                               allow_singular=True),
                    np.ones((2, 2)))


def test_untraced_calls_are_scipy_itself():
    x = np.linspace(-1, 3, 7)
    assert np.array_equal(stats.norm.logpdf(x, loc=0.2, scale=[[1.0], [2.0]]),
                          _original(stats.norm, "logpdf")(x, loc=0.2, scale=[[1.0], [2.0]]))
    frozen = stats.gamma(2.5, scale=1.3)
    assert np.array_equal(frozen.cdf(x), _original(stats.gamma, "cdf")(x, 2.5, scale=1.3))
    assert type(stats.multivariate_normal(np.zeros(2))).__name__ == "multivariate_normal_frozen"
    assert stats.norm.logpdf.__name__ == "logpdf" and "Log of the probability" in \
        stats.norm.logpdf.__doc__
