"""scipy.signal through its doors (rules/scipy_signal.py), in both modes against central finite
differences: convolve and correlate in every mode and method, fftconvolve/oaconvolve along
chosen axes with broadcasting, lfilter in its input and both sets of coefficients; second
derivatives in all four nestings."""
import numpy as np
import pytest

signal = pytest.importorskip("scipy.signal")

import wengert as wg  # noqa: E402
from wengert.testing import check_frule, check_grads, check_rrule  # noqa: E402


def random_array(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def pushforward_along(f, *us):
    """``args ↦ J_f(args) us``: differentiating it runs a forward level inside the outer one."""
    return lambda *args: wg.jvp(f, args, us)[1]


def check_both(fn, *args, **kwargs):
    check_rrule(fn, *args, **kwargs)
    check_frule(fn, *args, **kwargs)


# --- convolve / correlate -----------------------------------------------------------------------

SHAPES = [((5,), (3,)), ((4,), (4,)), ((3,), (6,)), ((4, 5), (2, 3)), ((2, 3), (4, 4)),
          ((4, 3), (2, 5))]   # the last: each larger along one axis ('valid' refuses it)
DTYPE_PAIRS = [(np.float64, np.float64), (np.float32, np.float32),
               (np.complex128, np.float64), (np.float64, np.complex128)]


def _convolution_cases():
    """Every shape pair in every mode, each with a pair of dtypes in turn (two per dtype pair
    and mode at least)."""
    k = 0
    for shapes in SHAPES:
        for mode in ("full", "same", "valid"):
            if mode == "valid" and shapes == ((4, 3), (2, 5)):
                continue
            dtypes = DTYPE_PAIRS[k % len(DTYPE_PAIRS)]
            k += 1
            yield pytest.param(shapes, mode, dtypes,
                               id=f"{shapes[0]}*{shapes[1]}-{mode}-"
                                  + "-".join(np.dtype(d).name for d in dtypes))


@pytest.mark.parametrize("shapes, mode, dtypes", list(_convolution_cases()))
def test_convolve(shapes, mode, dtypes, rng):
    a, b = (random_array(s, d, rng) for s, d in zip(shapes, dtypes))
    for method in ("direct", "fft"):
        check_both(signal.convolve, a, b, mode=mode, method=method)


@pytest.mark.parametrize("shapes, mode, dtypes", list(_convolution_cases()))
def test_correlate(shapes, mode, dtypes, rng):
    a, b = (random_array(s, d, rng) for s, d in zip(shapes, dtypes))
    for method in ("direct", "fft"):
        check_grads(lambda a, b: signal.correlate(a, b, mode, method), a, b)
        y, _ = wg.pullback(lambda a, b: signal.correlate(a, b, mode, method), a, b)
        np.testing.assert_allclose(y, signal.correlate(a, b, mode, method), rtol=1e-5,
                                   atol=1e-5)


AXES_CASES = [   # shapes of in1 and in2, the axes convolved; the others broadcast
    ((3, 6), (1, 4), 1),
    ((1, 6, 2), (3, 4, 2), [1]),
    ((2, 9), (2, 3), -1),
    ((4, 5), (3, 2), None),
    ((2, 5, 3), (2, 2, 4), (1, 2)),   # each larger along one axis: no 'valid'
]


def _axes_cases():
    """Each case in every mode, by fftconvolve and oaconvolve in turn."""
    k = 0
    for in1, in2, axes in AXES_CASES:
        for mode in ("full", "same", "valid"):
            if mode == "valid" and axes == (1, 2):
                continue   # SciPy's 'valid' needs one input at least as large along each axis
            name = ("fftconvolve", "oaconvolve")[k % 2]
            k += 1
            yield pytest.param(name, (in1, in2), axes, mode, id=f"{name}-{axes}-{mode}")


@pytest.mark.parametrize("name, shapes, axes, mode", list(_axes_cases()))
def test_fft_convolutions_along_axes(name, shapes, axes, mode, rng):
    a = random_array(shapes[0], np.float64, rng)
    b = random_array(shapes[1], np.complex128 if name == "fftconvolve" else np.float64, rng)
    check_both(getattr(signal, name), a, b, mode=mode, axes=axes)


def test_convolution_in_single_precision_keeps_it(rng):
    a, b = random_array((6,), np.float32, rng), random_array((3,), np.float32, rng)
    ga, gb = wg.gradient(lambda a, b: np.sum(signal.fftconvolve(a, b, "same") ** 2), a, b)
    assert ga.dtype == gb.dtype == np.float32


# --- lfilter -----------------------------------------------------------------------------------

def stable_denominator(order, dtype, rng, a0=2.0):
    """a0 followed by small coefficients: the poles stay well inside the unit circle."""
    a = np.concatenate([[a0], 0.3 * rng.standard_normal(order)])
    if np.dtype(dtype).kind == "c":
        a = a + np.concatenate([[0.0], 0.2j * rng.standard_normal(order)])
    return a.astype(dtype)


LFILTER_CASES = [   # taps of b, order of a, shape of x, axis
    (3, 1, (8,), -1),
    (2, 3, (3, 7), 1),
    (4, 2, (6, 3), 0),
    (1, 4, (5,), -1),      # all-pole
    (5, 0, (4,), -1),      # FIR: a is a single coefficient, more taps than samples
    (3, 6, (4,), -1),      # a longer than x
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("taps, order, shape, axis", LFILTER_CASES,
                         ids=[f"b{c[0]}-a{c[1]}-{c[2]}" for c in LFILTER_CASES])
def test_lfilter_in_input_and_coefficients(taps, order, shape, axis, dtype, rng):
    b = random_array((taps,), dtype, rng)
    a = stable_denominator(order, dtype, rng)
    x = random_array(shape, dtype, rng)
    check_both(signal.lfilter, b, a, x, axis=axis)


def test_lfilter_with_real_coefficients_and_complex_input(rng):
    b, a = rng.standard_normal(3), stable_denominator(2, np.float64, rng)
    check_both(signal.lfilter, b, a, random_array((6,), np.complex128, rng))


def test_lfilter_with_a_scalar_denominator_and_list_coefficients(rng):
    x = rng.standard_normal(6)
    check_both(signal.lfilter, np.array([0.5, -1.0, 2.0]), np.array(1.5), x)
    (gx, ga) = wg.gradient(lambda x, a: np.sum(signal.lfilter([1.0, 0.5], a, x) ** 2), x, 2.0)
    assert isinstance(ga, float)
    y = signal.lfilter([1.0, 0.5], 2.0, x)
    assert ga == pytest.approx(-2 * np.sum(y * y) / 2.0, rel=1e-12)   # y ∝ 1/a
    # a coefficient list holding a traced value: its cotangent goes to that element
    (g,) = wg.gradient(lambda c: np.sum(signal.lfilter([c, 0.5], [1.0, -0.2], x)), 0.7)
    expected = np.sum(signal.lfilter([1.0], [1.0, -0.2], x))
    assert g == pytest.approx(expected, rel=1e-12)


def test_lfilter_matches_its_recurrence(rng):
    """A first-order recursive filter y[n] = x[n] + p·y[n-1]: dy/dp by the recurrence."""
    x, p = rng.standard_normal(10), 0.6
    y = signal.lfilter([1.0], [1.0, -p], x)
    dy = signal.lfilter([1.0], [1.0, -p], np.concatenate([[0.0], y[:-1]]))
    got = wg.derivative(lambda p: signal.lfilter([1.0], np.stack([1.0, -p]), x), p)
    np.testing.assert_allclose(got, dy, rtol=1e-12)


def test_lfilter_refuses_initial_conditions_with_the_way_out(rng):
    b, a, x = [1.0, 0.5], [1.0, -0.3], rng.standard_normal(5)
    for transform in (lambda f: wg.gradient(f, x), lambda f: wg.jvp(f, (x,), (x,))):
        with pytest.raises(wg.DifferentiationError, match=r"lfilter.*zi=.*lfilter\(\[a\[0\]\]"):
            transform(lambda x: np.sum(signal.lfilter(b, a, x, zi=np.zeros(1))[0]))


def test_the_way_out_for_initial_conditions_is_right(rng):
    """The error's formula: lfilter with zi is lfilter without it plus lfilter([a0], a, e)."""
    b, a, x, zi = [1.0, 0.5, 0.2], [2.0, -0.3, 0.1], rng.standard_normal(7), np.array([0.4, -1])
    e = np.concatenate([zi, np.zeros(5)])
    np.testing.assert_allclose(signal.lfilter(b, a, x, zi=zi)[0],
                               signal.lfilter(b, a, x) + signal.lfilter([a[0]], a, e),
                               rtol=1e-12)


def test_coefficient_and_signal_lists_holding_traced_values(rng):
    x = rng.standard_normal(5)
    fs = [lambda x: signal.convolve([1.0, x[1]], x, "same"),
          lambda x: signal.fftconvolve(x, [x[0], 2.0, x[4]]),
          lambda x: signal.lfilter([x[0], 1.0], [1.0, x[3] / 4], [x[1], x[2], 2.0]),
          lambda x: signal.correlate([x[2], 1.0, -1.0], x)]
    for f in fs:
        check_grads(f, x)
        np.testing.assert_allclose(wg.jacobian(f, x)[0], wg.jacobian(f, x, mode="forward")[0],
                                   rtol=1e-12, atol=1e-12)


# --- second derivatives -------------------------------------------------------------------------

def _power(z):
    return np.sum(np.real(z * np.conj(z)))


NONLINEAR = {   # f, shapes of its arguments, dtypes
    "convolve_power": (lambda a, b: _power(signal.convolve(a, b, "same")), [(5,), (3,)],
                       [np.float64, np.complex128]),
    "fftconvolve_sin": (lambda a, b: np.sin(signal.fftconvolve(a, b, "valid", axes=1)),
                        [(2, 5), (1, 3)], [np.float64, np.float64]),
    "correlate_cube": (lambda a, b: signal.correlate(a, b, "full", "direct") ** 3,
                       [(4,), (2,)], [np.float64, np.float64]),
    "lfilter_power": (lambda b, a, x: _power(signal.lfilter(b, a, x)), [(3,), (2,), (6,)],
                      [np.float64, np.float64, np.float64]),
}
POINTS = {"random": None, "zeros": 0.0, "ones": 1.0}


@pytest.mark.parametrize("point", list(POINTS))
@pytest.mark.parametrize("name", list(NONLINEAR))
def test_second_derivatives_in_every_nesting(name, point, rng):
    f, shapes, dtypes = NONLINEAR[name]
    args = [random_array(s, d, rng) for s, d in zip(shapes, dtypes)]
    if POINTS[point] is not None:   # exact zeros and ones (a filter's a0 stays nonzero)
        args = [np.full(s, POINTS[point], d) for s, d in zip(shapes, dtypes)]
        if name == "lfilter_power":
            args[1] = np.array([1.0, POINTS[point] * 0.5])
    if name == "lfilter_power" and POINTS[point] is None:
        args[1] = stable_denominator(1, np.float64, rng)
    check_grads(f, *args, order=2)                         # rev∘rev and fwd∘rev
    us = [random_array(s, d, rng) for s, d in zip(shapes, dtypes)]
    check_grads(pushforward_along(f, *us), *args)          # rev∘fwd and fwd∘fwd
