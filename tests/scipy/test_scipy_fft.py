"""scipy.fft through its doors (rules/scipy_fft.py), in both modes against central finite
differences: the Fourier transforms with SciPy's keywords, the Hermitian n-D transforms NumPy
lacks, and the real trig transforms (dct, dst, their inverses and n-D versions) of every type,
norm and orthogonalize setting; second derivatives in all four nestings."""
import numpy as np
import pytest

scipy_fft = pytest.importorskip("scipy.fft")

import wengert as wg  # noqa: E402
from wengert.testing import check_frule, check_grads, check_rrule  # noqa: E402


def random_array(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def pushforward_along(f, u):
    """``x ↦ J_f(x) u``: differentiating it runs a forward level inside the outer one."""
    return lambda x: wg.jvp(f, (x,), (u,))[1]


def check_both(fn, x, **kwargs):
    check_rrule(fn, x, **kwargs)
    check_frule(fn, x, **kwargs)


# --- Fourier transforms --------------------------------------------------------------------

FOURIER = [   # (name, input kind, shape, keywords)
    ("fft", "complex", (3, 6), {"n": 4, "workers": 2}),
    ("ifft", "complex", (3, 5), {"n": 8, "axis": 0, "norm": "ortho"}),
    ("rfft", "real", (3, 6), {"n": 7, "norm": "forward"}),
    ("irfft", "complex", (3, 4), {"n": 5}),
    ("hfft", "complex", (3, 4), {"n": 6, "norm": "ortho"}),
    ("ihfft", "real", (3, 5), {"axis": 0}),
    ("fft2", "complex", (2, 3, 4), {"s": (4, 3)}),
    ("ifftn", "complex", (2, 3, 4), {"axes": (0, 2), "norm": "forward"}),
    ("rfft2", "real", (3, 4), {"axes": (1, 0)}),
    ("irfftn", "complex", (2, 3, 3), {"s": (3, 5), "axes": (0, 2)}),
    ("hfft2", "complex", (3, 4), {}),
    ("hfftn", "complex", (2, 3, 3), {"s": (4, 5), "axes": (1, 2), "norm": "ortho"}),
    ("ihfft2", "real", (3, 4), {"norm": "forward"}),
    ("ihfftn", "real", (2, 3, 5), {"s": (3, 7), "axes": (0, 2)}),
]


@pytest.mark.parametrize("precision", ["single", "double"])
@pytest.mark.parametrize("name, kind, shape, kwargs", FOURIER, ids=[c[0] for c in FOURIER])
def test_fourier_transforms(name, kind, shape, kwargs, precision, rng):
    dtype = {("real", "single"): np.float32, ("real", "double"): np.float64,
             ("complex", "single"): np.complex64, ("complex", "double"): np.complex128}
    check_both(getattr(scipy_fft, name), random_array(shape, dtype[kind, precision], rng),
               **kwargs)


def test_overwrite_x_leaves_the_input_alone(rng):
    x = random_array((8,), np.complex128, rng)
    kept = x.copy()
    (g,) = wg.gradient(lambda x: np.sum(np.abs(scipy_fft.ifft(x, overwrite_x=True)) ** 2), x)
    np.testing.assert_array_equal(x, kept)
    np.testing.assert_allclose(g, 2 * x / 8, rtol=1e-12)   # Σ|ifft(x)|² = Σ|x|²/n


def test_a_list_holding_traced_values(rng):
    x = rng.standard_normal(3)
    for f in (lambda x: scipy_fft.rfft([x[0], 1.0, x[2], x[0]]),
              lambda x: scipy_fft.dct([x[1], 2.0, x[2]], type=1)):
        check_grads(f, x)
        np.testing.assert_allclose(wg.jacobian(f, x)[0], wg.jacobian(f, x, mode="forward")[0],
                                   rtol=1e-12, atol=1e-12)


# --- real trig transforms ----------------------------------------------------------------------

NORMS = [{"norm": None}, {"norm": "ortho"}, {"norm": "forward"},
         {"norm": "ortho", "orthogonalize": False}, {"norm": None, "orthogonalize": True}]
LENGTHS = [{"n": 4}, {"n": 8, "norm": "ortho"}, {"axis": 0, "norm": "forward"}]


def _trig_cases():
    """Every type with every norm and orthogonalize setting, and cropping, padding or another
    axis in turn."""
    k = 0
    for name in ("dct", "idct", "dst", "idst"):
        for type in (1, 2, 3, 4):
            for kwargs in NORMS + [LENGTHS[k % len(LENGTHS)]]:
                yield pytest.param(name, type, kwargs, id=f"{name}{type}-{kwargs}")
            k += 1


@pytest.mark.parametrize("name, type, kwargs", list(_trig_cases()))
def test_trig_transforms(name, type, kwargs, rng):
    check_both(getattr(scipy_fft, name), random_array((3, 5), np.float64, rng), type=type,
               **kwargs)


@pytest.mark.parametrize("orthogonalize", [None, True, False])
@pytest.mark.parametrize("name", ["dct", "idct", "dst", "idst"])
def test_trig_transforms_of_complex_and_single_precision_input(name, orthogonalize, rng):
    # SciPy 1.17 ignores orthogonalize= for complex input: the rule follows what it computes
    for type in (1, 2, 3):
        for dtype in (np.complex128, np.float32):
            x = random_array((4, 3), dtype, rng)
            check_both(getattr(scipy_fft, name), x, type=type, norm="ortho", axis=0,
                       orthogonalize=orthogonalize)


@pytest.mark.parametrize("name", ["dctn", "idctn", "dstn", "idstn"])
@pytest.mark.parametrize("kwargs", [{"type": 2}, {"type": 1, "norm": "ortho"},
                                    {"type": 3, "s": (4, 6), "axes": (0, 2)},
                                    {"type": 4, "axes": 1, "norm": "forward"},
                                    {"type": 2, "s": 2, "axes": [-1], "orthogonalize": True}],
                         ids=["plain", "ortho", "s-axes", "one-axis", "cropped"])
def test_n_dimensional_trig_transforms(name, kwargs, rng):
    check_both(getattr(scipy_fft, name), random_array((2, 3, 4), np.float64, rng), **kwargs)
    check_both(getattr(scipy_fft, name), random_array((3, 4), np.complex64, rng),
               **{k: v for k, v in kwargs.items() if k not in ("s", "axes")})


def test_orthonormal_dct_is_orthogonal_in_its_gradient(rng):
    """Σ dct(x, norm="ortho")² = Σ x²: the gradient is exactly 2x, for every type."""
    x = rng.standard_normal(7)
    for type in (1, 2, 3, 4):
        (g,) = wg.gradient(lambda x: np.sum(scipy_fft.dct(x, type=type, norm="ortho") ** 2), x)
        np.testing.assert_allclose(g, 2 * x, rtol=1e-12)
        (g,) = wg.gradient(lambda x: np.sum(scipy_fft.dst(x, type=type, norm="ortho") ** 2), x)
        np.testing.assert_allclose(g, 2 * x, rtol=1e-12)


# --- second derivatives -------------------------------------------------------------------------

NONLINEAR = {
    "rfft_power": (lambda x: np.sum(np.real(scipy_fft.rfft(x) * np.conj(scipy_fft.rfft(x)))),
                   np.float64, (6,)),
    "hfftn_cubed": (lambda x: np.sum(scipy_fft.hfftn(x, s=(3, 4)) ** 3), np.complex128, (3, 3)),
    "dct2_sin": (lambda x: np.sin(scipy_fft.dct(x, n=6)), np.float64, (5,)),
    "idst3_square": (lambda x: scipy_fft.idstn(x, type=3) ** 2, np.float64, (2, 3)),
    "dct1_of_fft": (lambda x: scipy_fft.dct(np.real(scipy_fft.fft(x)) ** 2, type=1),
                    np.complex128, (4,)),
}
POINTS = {"random": None, "zeros": 0.0, "ones": 1.0}


@pytest.mark.parametrize("point", list(POINTS))
@pytest.mark.parametrize("name", list(NONLINEAR))
def test_second_derivatives_in_every_nesting(name, point, rng):
    f, dtype, shape = NONLINEAR[name]
    x = random_array(shape, dtype, rng)
    if POINTS[point] is not None:
        x = np.full(shape, POINTS[point], dtype)
    check_grads(f, x, order=2)                                   # rev∘rev and fwd∘rev
    check_grads(pushforward_along(f, random_array(shape, dtype, rng)), x)   # rev∘fwd, fwd∘fwd


# --- values, and what is not supported ---------------------------------------------------------

def test_the_value_is_scipys_own(rng):
    x = rng.standard_normal((3, 6))
    for name, kwargs in [("rfft", {}), ("dct", {"type": 3}), ("idstn", {"norm": "ortho"})]:
        y, _ = wg.pullback(lambda x: getattr(scipy_fft, name)(x, **kwargs), x)
        assert np.array_equal(y, getattr(scipy_fft, name)(x, **kwargs))


def test_a_function_without_a_rule_names_itself(rng):
    x = np.abs(rng.standard_normal(8)) + 0.1
    with pytest.raises(wg.DifferentiationError, match=r"scipy\.fft\.fht"):
        wg.gradient(lambda x: np.sum(scipy_fft.fht(x, dln=0.1, mu=0.0)), x)
