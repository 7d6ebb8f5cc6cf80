"""np.sinc to any order, in every nesting, at 0, near 0 (where the quotient cancels), at the
switch between the series and the quotient, and far away; float32 and float64."""
import numpy as np
import pytest

import wengert as wg

PI2 = np.pi ** 2


def sinc_derivatives(x):
    """sinc', sinc'', sinc''' by a 30-term series near 0 and closed forms elsewhere."""
    if abs(x) < 1.0:
        k = np.arange(30)
        sign = (-1.0) ** k
        fact = np.array([float(np.prod(np.arange(1, 2 * j + 2, dtype=float))) for j in k])
        c = sign * np.pi ** (2 * k) / fact                       # sinc = Σ c_k x^{2k}
        d1 = np.sum(c[1:] * 2 * k[1:] * x ** (2 * k[1:] - 1))
        d2 = np.sum(c[1:] * 2 * k[1:] * (2 * k[1:] - 1) * x ** (2 * k[1:] - 2))
        d3 = np.sum(c[2:] * 2 * k[2:] * (2 * k[2:] - 1) * (2 * k[2:] - 2)
                    * x ** (2 * k[2:] - 3))
        return d1, d2, d3
    y = np.pi * x
    s, c = np.sin(y), np.cos(y)
    d1 = (y * c - s) / (np.pi * x ** 2)
    d2 = (-(y ** 2) * s - 2 * y * c + 2 * s) / (np.pi * x ** 3)
    d3 = (-(y ** 3) * c + 3 * y ** 2 * s + 6 * y * c - 6 * s) / (np.pi * x ** 4)
    return d1, d2, d3


def rev(f):
    return lambda x: wg.gradient(f, x)[0]


def fwd(f):
    return lambda x: wg.derivative(f, x)


POINTS = [0.0, 1e-9, -1e-5, 0.1, 0.4999999, 0.5, 0.5000001, 0.75, 1.0, 2.5, -3.2]
NESTINGS = {"rev-rev": (rev, rev), "fwd-rev": (fwd, rev), "rev-fwd": (rev, fwd),
            "fwd-fwd": (fwd, fwd)}


@pytest.mark.parametrize("nesting", list(NESTINGS))
@pytest.mark.parametrize("x", POINTS, ids=str)
def test_first_and_second_derivatives(x, nesting):
    outer, inner = NESTINGS[nesting]
    d1, d2, _ = sinc_derivatives(x)
    assert inner(np.sinc)(x) == pytest.approx(d1, rel=1e-12, abs=1e-14)
    assert outer(inner(np.sinc))(x) == pytest.approx(d2, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("x", POINTS, ids=str)
def test_third_derivative(x):
    _, _, d3 = sinc_derivatives(x)
    assert fwd(rev(fwd(np.sinc)))(x) == pytest.approx(d3, rel=1e-8, abs=1e-9)
    assert rev(rev(rev(np.sinc)))(x) == pytest.approx(d3, rel=1e-8, abs=1e-9)


def test_hessian_at_and_near_zero():
    assert wg.hessian(np.sinc, 0.0) == pytest.approx(-PI2 / 3, rel=1e-14)
    assert wg.hessian(np.sinc, 1e-9) == pytest.approx(-PI2 / 3, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_arrays_keep_their_dtype_and_value(dtype):
    x = np.array([0.0, 1e-4, 0.3, 0.5, 1.0, 2.2], dtype)
    value, back = wg.pullback(np.sinc, x)
    assert np.array_equal(value, np.sinc(x))        # the value is NumPy's own
    g = back(np.ones_like(x))[0]
    assert g.dtype == dtype
    expected = [sinc_derivatives(float(v))[0] for v in x]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(g, expected, rtol=tol, atol=tol)
    h = wg.hessian(lambda x: np.sum(np.sinc(x)), x)
    np.testing.assert_allclose(np.diag(h), [sinc_derivatives(float(v))[1] for v in x],
                               rtol=10 * tol, atol=10 * tol)


def test_huge_arguments_stay_finite():
    x = np.array([1e30, -1e300])
    assert np.all(np.isfinite(wg.gradient(lambda x: np.sum(np.sinc(x)), x)[0]))
    assert np.all(np.isfinite(wg.hessian(lambda x: np.sum(np.sinc(x)), x)))
