"""NumPy functions differentiated through their definitions (rules/composites.py): values
equal NumPy's, both modes agree with finite differences in float32, float64 and complex128,
and the definitions nest (second order, reverse over forward)."""
import numpy as np
import pytest

import wengert as wg
from spec_helpers import random_args, sin_of_each
from wengert.testing import check_grads

DTYPES = (np.float32, np.float64, np.complex128)


def _spd(a):
    return a @ np.conjugate(np.swapaxes(a, -1, -2)) + 3 * np.eye(a.shape[-1])


# id: (function of the arguments, shapes of the arguments, real only)
COMPOSITES = {
    "diff": (np.diff, [(3, 5)], False),
    "diff_n2_axis0": (lambda a: np.diff(a, 2, axis=0), [(4, 3)], False),
    "diff_edges": (lambda a, e: np.diff(a, prepend=1.5, append=e), [(3, 4), (3, 2)], False),
    "diff_traced_scalar_edge": (lambda a, e: np.diff(a, append=e), [(2, 3), ()], False),
    "trapezoid": (np.trapezoid, [(3, 5)], False),
    "trapezoid_dx": (lambda y: np.trapezoid(y, dx=0.5, axis=0), [(4, 3)], False),
    "trapezoid_grid": (lambda y, x: np.trapezoid(y, x), [(3, 5), (5,)], False),
    "trapezoid_grids": (lambda y, x: np.trapezoid(y, x, axis=0), [(4, 2), (4, 2)], False),
    "polyval": (np.polyval, [(4,), (3, 2)], False),
    "polyval_scalar": (np.polyval, [(3,), ()], False),
    "interp": (lambda x, fp: np.interp(x, np.linspace(-2, 2, 6), fp), [(7,), (6,)], True),
    "interp_knots": (lambda x, xp, fp: np.interp(x, np.cumsum(np.exp(xp)) - 3.0, fp, left=-1.0,
                                                 right=fp[2]), [(9,), (5,), (5,)], True),
    "interp_complex_values": (lambda x, fp: np.interp(np.real(x), [-1.0, 0.0, 1.0], fp),
                              [(4,), (3,)], False),
    "linspace": (lambda s, e: np.linspace(s, e, 6), [(), ()], False),
    "linspace_arrays": (lambda s, e: np.linspace(s, e, 4, endpoint=False, axis=-1),
                        [(3,), (2, 3)], False),
    "linspace_retstep": (lambda s, e: np.linspace(s, e, 5, retstep=True), [(), ()], False),
    "meshgrid": (np.meshgrid, [(4,), (3,)], False),
    "meshgrid_ij": (lambda x, y, z: np.meshgrid(x, y, z, indexing="ij"), [(3,), (2,), (2,)],
                    False),
    "meshgrid_sparse": (lambda x, y, z: np.meshgrid(x, y, z, sparse=True), [(3,), (2,), (2,)],
                        False),
    "vander": (np.vander, [(4,)], False),
    "vander_N": (lambda x: np.vander(x, 6, increasing=True), [(3,)], False),
    "nan_to_num": (np.nan_to_num, [(2, 3)], False),
    "multi_dot": (lambda a, b, c: np.linalg.multi_dot([a, b, c]), [(4, 3), (3, 5), (5, 2)],
                  False),
    "multi_dot_vectors": (lambda a, b, c: np.linalg.multi_dot([a, b, c]), [(4,), (4, 3), (3,)],
                          False),
    "cond": (lambda a: np.linalg.cond(_spd(a)), [(3, 3)], False),
    "cond_-2_batched": (lambda a: np.linalg.cond(_spd(a), -2), [(2, 3, 3)], False),
    "cond_fro": (lambda a: np.linalg.cond(_spd(a), "fro"), [(3, 3)], False),
    "convolve": (np.convolve, [(5,), (3,)], False),
    "convolve_same_short_first": (lambda a, v: np.convolve(a, v, "same"), [(2,), (5,)], False),
    "convolve_valid": (lambda a, v: np.convolve(a, v, "valid"), [(6,), (3,)], False),
    "correlate": (np.correlate, [(5,), (3,)], False),
    "correlate_full": (lambda a, v: np.correlate(a, v, "full"), [(4,), (4,)], False),
    "correlate_same_short_first": (lambda a, v: np.correlate(a, v, "same"), [(2,), (5,)],
                                   False),
}


def _cases():
    for name, (fn, shapes, real_only) in COMPOSITES.items():
        for dtype in DTYPES[:2] if real_only else DTYPES:
            yield pytest.param(name, dtype, id=f"{name}-{np.dtype(dtype).name}")


@pytest.mark.parametrize("name, dtype", list(_cases()))
def test_composite_derivatives(name, dtype, rng):
    fn, shapes, _ = COMPOSITES[name]
    args = random_args(shapes, dtype, rng)
    value, _ = wg.pullback(fn, *args)
    expected = fn(*args)
    for got, want in zip(*(v if isinstance(v, tuple) else (v,) for v in (value, expected))):
        np.testing.assert_allclose(got, want, rtol=1e-5)
        assert np.shape(got) == np.shape(want)
    check_grads(fn, *args)


@pytest.mark.parametrize("name", list(COMPOSITES))
def test_composites_nest(name, rng):
    fn, shapes, _ = COMPOSITES[name]
    args = random_args(shapes, np.float64, rng)
    f = lambda *a: sin_of_each(fn(*a))
    check_grads(f, *args, order=2)
    us = random_args(shapes, np.float64, rng)
    check_grads(lambda *a: wg.jvp(f, a, us)[1], *args)


def test_nan_to_num_passes_finite_values_and_cuts_replaced_ones():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    (g,) = wg.gradient(lambda x: np.sum(np.nan_to_num(x, posinf=5.0) * 3.0), x)
    np.testing.assert_array_equal(g, [3.0, 0.0, 0.0, 0.0, 3.0])


def test_interp_outside_the_knots_depends_on_the_end_values_only():
    xp, fp = np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 2.0])
    gx, gfp = wg.gradient(lambda x, fp: np.sum(np.interp(x, xp, fp)),
                          np.array([-1.0, 0.5, 3.0]), fp)
    np.testing.assert_allclose(gx, [0.0, 2.0, 0.0])
    np.testing.assert_allclose(gfp, [1.5, 0.5, 1.0])


def test_interp_with_a_period_says_how_to_go_on():
    with pytest.raises(wg.DifferentiationError, match=r"np\.interp.*period"):
        wg.gradient(lambda x: np.interp(x, [0.0, 1.0], [1.0, 2.0], period=1.0), 0.5)
