"""Rules of np.fft (rules/fft.py) in both modes against central finite differences: every
transform over lengths n cropping and padding (odd and even), axes, norms and dtypes; second
derivatives in all four nestings through a nonlinear composition; shifts and frequencies."""
import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_frule, check_grads, check_rrule

NORMS = (None, "ortho", "forward")
REAL = (np.float32, np.float64)
COMPLEX = (np.complex64, np.complex128)


def random_array(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def pushforward_along(f, u):
    """``x ↦ J_f(x) u``: differentiating it runs a forward level inside the outer one."""
    return lambda x: wg.jvp(f, (x,), (u,))[1]


# name -> (input: real or complex, shape, keyword sets). The lengths cover n below, equal to
# and above the input's (odd and even), axes other than the last, and every norm.
ONE_AXIS = [{}, {"n": 4}, {"n": 5, "norm": "ortho"}, {"n": 9, "norm": "forward"},
            {"n": 8, "axis": 0}, {"axis": -2, "norm": "forward"}]
TRANSFORMS = {
    "fft": ("complex", (3, 6), ONE_AXIS),
    "ifft": ("complex", (3, 5), ONE_AXIS),
    "rfft": ("real", (3, 6), ONE_AXIS),
    "irfft": ("complex", (3, 4), ONE_AXIS + [{"n": 7}, {"n": 3, "norm": "ortho"}]),
    "hfft": ("complex", (3, 4), ONE_AXIS + [{"n": 7}]),
    "ihfft": ("real", (3, 5), ONE_AXIS),
    "fft2": ("complex", (2, 3, 4), [{}, {"s": (4, 3), "norm": "ortho"}, {"axes": (0, 2)}]),
    "ifft2": ("complex", (3, 4), [{}, {"s": (2, 5), "norm": "forward"}]),
    "fftn": ("complex", (2, 3, 4), [{}, {"s": (3, 2), "axes": (1, 2)},
                                    {"axes": (2, 0), "norm": "ortho"}]),
    "ifftn": ("complex", (2, 3, 4), [{}, {"s": (3, 5, 2), "axes": (0, 1, 2)}]),
    "rfft2": ("real", (3, 4), [{}, {"s": (4, 5), "norm": "forward"}, {"axes": (1, 0)}]),
    "rfftn": ("real", (2, 3, 5), [{}, {"s": (2, 6), "axes": (1, 2)},
                                  {"axes": (0, 2), "norm": "ortho"}]),
    "irfft2": ("complex", (3, 3), [{}, {"s": (4, 5), "norm": "ortho"}, {"axes": (1, 0)}]),
    "irfftn": ("complex", (2, 3, 3), [{}, {"s": (3, 4), "axes": (-2, -1)},
                                      {"axes": (0, 2), "norm": "forward"},
                                      {"s": (2, 2, 7), "axes": (0, 1, 2)}]),
}


def _cases():
    """Every keyword set in double precision, every other one in single precision."""
    for name, (kind, shape, keyword_sets) in TRANSFORMS.items():
        single, double = COMPLEX if kind == "complex" else REAL
        for k, kwargs in enumerate(keyword_sets):
            for dtype in (single, double) if k % 2 == 0 else (double,):
                yield pytest.param(name, shape, dtype, kwargs,
                                   id=f"{name}-{np.dtype(dtype).name}-{k}")


@pytest.mark.parametrize("name, shape, dtype, kwargs", list(_cases()))
def test_transform_rules_against_finite_differences(name, shape, dtype, kwargs, rng):
    fn = getattr(np.fft, name)
    x = random_array(shape, dtype, rng)
    check_rrule(fn, x, **kwargs)
    check_frule(fn, x, **kwargs)


@pytest.mark.parametrize("name", ["fft", "ifft", "fft2", "fftn", "hfft"])
def test_real_input_to_a_complex_transform_gets_a_real_gradient(name, rng):
    x = random_array((3, 4), np.float32, rng)
    check_rrule(getattr(np.fft, name), x)
    check_frule(getattr(np.fft, name), x)
    y, back = wg.pullback(getattr(np.fft, name), x)
    g = back(random_array(y.shape, y.dtype, rng))[0]
    assert g.dtype == np.float32 and g.shape == x.shape


@pytest.mark.parametrize("dtype", REAL + COMPLEX, ids=lambda d: np.dtype(d).name)
def test_gradients_keep_the_inputs_dtype(dtype, rng):
    x = random_array((6,), dtype, rng)
    transform = np.fft.fft if np.dtype(dtype).kind == "c" else np.fft.rfft
    (g,) = wg.gradient(lambda x: np.sum(np.abs(transform(x, n=9)) ** 2), x)
    assert g.dtype == dtype and g.shape == x.shape
    _, dy = wg.jvp(lambda x: transform(x, n=4), (x,), (np.ones_like(x),))
    assert dy.dtype == transform(x, n=4).dtype


def test_parsevals_theorem_gives_the_exact_gradient(rng):
    """Σ|fft(x)|² = n·Σx², so its gradient is 2n·x. The half spectrum counts DC and (n even)
    Nyquist once and every other bin for two: Σ|rfft(x)|² = (n·Σx² + (Σx)² + (Σ(-1)ʲxⱼ)²)/2,
    whose gradient n·x + Σx + (-1)ʲ·Σ(-1)ʲxⱼ checks the halving exactly."""
    for n in (8, 7):
        x = rng.standard_normal(n)
        (g,) = wg.gradient(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2), x)
        np.testing.assert_allclose(g, 2 * n * x, rtol=1e-12)
        (g,) = wg.gradient(lambda x: np.sum(np.abs(np.fft.fft(x, norm="ortho")) ** 2), x)
        np.testing.assert_allclose(g, 2 * x, rtol=1e-12)
        alternating = (-1.0) ** np.arange(n) if n % 2 == 0 else np.zeros(n)
        expected = n * x + np.sum(x) + alternating * np.sum(alternating * x)
        (g,) = wg.gradient(lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2), x)
        np.testing.assert_allclose(g, expected, rtol=1e-12)
        _, dy = wg.jvp(lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2), (x,), (np.ones(n),))
        np.testing.assert_allclose(dy, np.sum(expected), rtol=1e-12)


# --- second derivatives: a linear map composed with a nonlinear one -------------------------

def power(z):
    """Σ|z|², written smoothly: np.abs(z) ** 2 would have the Hessian 0 at z = 0 (the kink
    policy of abs, see docs/conventions.md)."""
    return np.sum(np.real(z * np.conj(z)))


NONLINEAR = {
    "power_spectrum": (lambda x: power(np.fft.rfft(x, n=7)), "real", (6,)),
    "irfft_cubed": (lambda x: np.sum(np.fft.irfft(x, n=6, norm="ortho") ** 3), "complex", (4,)),
    "fft2_sin": (lambda x: np.sin(np.fft.fft2(x, s=(3, 4)).real), "complex", (2, 3)),
    "rfftn_roundtrip": (lambda x: np.fft.irfftn(np.fft.rfftn(x) ** 2, s=x.shape, axes=(0, 1)),
                        "real", (3, 4)),
    "hfft_ihfft": (lambda x: np.fft.hfft(np.fft.ihfft(x, norm="forward") ** 2), "real", (5,)),
}
POINTS = {"random": None, "zeros": 0.0, "ones": 1.0}


@pytest.mark.parametrize("point", list(POINTS))
@pytest.mark.parametrize("name", list(NONLINEAR))
def test_second_derivatives_in_every_nesting(name, point, rng):
    f, kind, shape = NONLINEAR[name]
    dtype = np.complex128 if kind == "complex" else np.float64
    x = random_array(shape, dtype, rng)
    if POINTS[point] is not None:
        x = np.full(shape, POINTS[point], dtype)
    check_grads(f, x, order=2)                                   # rev∘rev and fwd∘rev
    check_grads(pushforward_along(f, random_array(shape, dtype, rng)), x)   # rev∘fwd, fwd∘fwd


def test_hessian_of_the_power_spectrum(rng):
    """Σ|fft(x)|² = n·Σx²: its Hessian is 2n·I, in every mode that builds one."""
    x = rng.standard_normal(5)
    f = lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2)
    np.testing.assert_allclose(wg.hessian(f, x), 10 * np.eye(5), atol=1e-12)
    g = lambda x: wg.gradient(f, x)[0]
    np.testing.assert_allclose(wg.jacobian(g, x)[0], 10 * np.eye(5), atol=1e-12)
    np.testing.assert_allclose(wg.jacobian(g, x, mode="forward")[0], 10 * np.eye(5), atol=1e-12)


@pytest.mark.parametrize("name", ["rfft", "irfft", "ihfft", "fft2"])
def test_jacobians_agree_between_modes(name, rng):
    """Forward mode pushes one-hot tangents, reverse mode pulls back one-hot cotangents."""
    x = random_array((3, 4), np.complex128 if name in ("irfft", "fft2") else np.float64, rng)
    f = lambda x: getattr(np.fft, name)(x, axis=0) if name != "fft2" else np.fft.fft2(x)
    np.testing.assert_allclose(wg.jacobian(f, x)[0], wg.jacobian(f, x, mode="forward")[0],
                               rtol=1e-12, atol=1e-12)
    assert wg.partial(f, x, index=(1, 2)).shape == f(x).shape


# --- shifts and frequencies --------------------------------------------------------------------

@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.complex128),
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shift", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("shape, axes", [((5,), None), ((3, 4), None), ((3, 4), 1),
                                         ((2, 3, 5), (0, 2))])
def test_shifts(shift, shape, axes, dtype, rng):
    x = random_array(shape, dtype, rng)
    check_rrule(getattr(np.fft, shift), x, axes)
    check_frule(getattr(np.fft, shift), x, axes)


def test_shifted_spectrum_nests(rng):
    f = lambda x: np.sin(np.fft.fftshift(np.real(np.fft.fft(x) * np.conj(np.fft.fft(x)))))
    x = rng.standard_normal(7)
    check_grads(f, x, order=2)
    check_grads(pushforward_along(f, rng.standard_normal(7)), x)


@pytest.mark.parametrize("freq", ["fftfreq", "rfftfreq"])
def test_frequencies_are_differentiated_in_the_spacing(freq):
    # k / (d·n) for integer k: the derivative in d is -k / (d²·n); n carries none
    f = lambda d: getattr(np.fft, freq)(6, d)
    check_grads(f, 0.25)
    dd = wg.derivative(f, 0.5)
    np.testing.assert_allclose(dd, -getattr(np.fft, freq)(6, 1.0) / 0.25, rtol=1e-12)


# --- what is refused ---------------------------------------------------------------------------

def test_out_is_refused_with_the_way_out(rng):
    x = rng.standard_normal(4)
    out = np.empty(4, complex)
    with pytest.raises(wg.DifferentiationError, match=r"np\.fft\.fft.*out=.*Drop out="):
        wg.gradient(lambda x: np.sum(np.abs(np.fft.fft(x, out=out))), x)


def test_the_value_is_numpys_own(rng):
    x = rng.standard_normal((3, 6))
    for name in ("fft", "rfft", "irfft", "hfft", "fftn"):
        y, _ = wg.pullback(lambda x: getattr(np.fft, name)(x, norm="ortho"), x)
        assert np.array_equal(y, getattr(np.fft, name)(x, norm="ortho"))
