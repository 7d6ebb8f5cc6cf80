"""The NumPy functions of rules/ufuncs_more, callbacks, polynomials, sets, histograms,
differences, nan_functions and numpy_more, driven by one spec table: values equal NumPy's
(dtype and shape too), both modes agree with central finite differences in every dtype the
function takes, and second derivatives in all four nestings (reverse over reverse, forward
over reverse, reverse over forward, forward over forward) in float64. The behaviour at
special points, ties and refusals follows the table."""
import zlib
from collections import namedtuple

import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_grads

pytest.importorskip("scipy")

R = (np.float32, np.float64)
RC = R + (np.complex128,)
# NumPy warns about these on purpose; they are what the cases exercise.
pytestmark = [pytest.mark.filterwarnings("ignore:Polyfit may be poorly conditioned"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def rng_for(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def normal(*shapes, lo=None, hi=None):
    """Arguments of these shapes: standard normal, or uniform in [lo, hi]; complex ones get
    an imaginary part."""
    def make(dtype, rng):
        out = []
        for shape in shapes:
            x = rng.standard_normal(shape) if lo is None else rng.uniform(lo, hi, shape)
            if np.dtype(dtype).kind == "c":
                x = x + 0.5j * rng.standard_normal(shape)
            out.append(x.astype(dtype))
        return out
    return make


def away(shape):
    """Values whose real parts keep 0.15 or more from the thresholds 0 and ±0.3."""
    def make(dtype, rng):
        (x,) = normal(shape)(dtype, rng)
        re = np.real(x)
        moved = np.where(np.abs(re) < 0.3, 0.15 * np.sign(re), re + 0.4 * np.sign(re))
        return [(x - re + moved).astype(dtype)]
    return make


def with_nans(shape, where):
    def make(dtype, rng):
        (x,) = normal(shape)(np.float64, rng)
        x[where] = np.nan
        return [x.astype(dtype)]
    return make


def quotients(dtype, rng):
    """x, y with x/y well inside (n + 0.2, n + 0.8): away from divmod's jumps."""
    y = rng.uniform(0.5, 2.0, (3,)) * rng.choice([-1, 1], 3)
    x = y * (rng.integers(-3, 3, (2, 3)) + rng.uniform(0.2, 0.8, (2, 3)))
    return [x.astype(dtype), y.astype(dtype)]


Spec = namedtuple("Spec", "fn args dtypes")
EXPONENTS = np.array([1, -2, 3])
FIT_X = np.linspace(-1.0, 1.0, 7)
SAMPLES = np.array([-1.3, -0.6, 0.1, 0.45, 1.1, 2.0, 0.7, -0.9])   # 0.05 or more from edges
BRANCHY = np.vectorize(lambda a, b: a * np.sin(b) if a > 0 else b * b)
RETURNS_TWO = np.vectorize(lambda a, b: (a * b, a - np.exp(b)))
ROWS_TIMES = np.vectorize(lambda m, v: m @ v, signature="(n,m),(m)->(n)")
EXCLUDING = np.vectorize(lambda a, power: a ** power, excluded={1})
CAST = np.vectorize(lambda a: a * a, otypes=[np.float64])

SPECS = {
    # ufuncs_more
    "degrees": Spec(np.degrees, normal((3, 4)), R),
    "radians": Spec(np.radians, normal((3, 4)), R),
    "ldexp": Spec(lambda x: np.ldexp(x, EXPONENTS), normal((2, 3)), R),
    "frexp": Spec(lambda x: np.frexp(x)[0], normal((2, 3)), R),
    "modf": Spec(np.modf, normal((2, 3), lo=0.1, hi=0.9), R),
    "divmod": Spec(np.divmod, quotients, R),
    "matvec": Spec(lambda a, v: np.matvec(a, v), normal((2, 3, 4), (4,)), RC),
    "vecmat": Spec(lambda v, a: np.vecmat(v, a), normal((3,), (2, 3, 4)), RC),
    "vecdot_axis": Spec(lambda a, b: np.vecdot(a, b, axis=0), normal((3, 2), (3, 1)), RC),
    "linalg_vecdot": Spec(lambda a, b: np.linalg.vecdot(a, b, axis=0), normal((3, 2), (3, 2)),
                          RC),
    "i0": Spec(np.i0, normal((5,)), R),
    # callbacks
    "piecewise": Spec(lambda x: np.piecewise(x, [np.real(x) < -0.3, np.real(x) > 0.3],
                                             [lambda v: v * v, np.sin, 0.25]), away((7,)), RC),
    "piecewise_2d_traced_constant": Spec(
        lambda x, c: np.piecewise(x, [x < 0], [lambda v: np.exp(v), c]), normal((2, 3), ()), R),
    "piecewise_0d": Spec(lambda x: np.piecewise(x, [x > 0, x <= 0], [np.sin, np.cos]),
                         normal(()), R),
    "apply_along_axis": Spec(lambda a: np.apply_along_axis(
        lambda v: np.stack([np.sum(v * v), np.prod(v)]), 0, a), normal((3, 2)), RC),
    "apply_along_axis_scalar": Spec(lambda a: np.apply_along_axis(
        lambda v, p: np.sum(v ** p), -1, a, 3), normal((2, 3)), RC),
    "apply_over_axes": Spec(lambda a: np.apply_over_axes(np.sum, a * a, [0, 2]),
                            normal((2, 3, 2)), RC),
    "vectorize": Spec(BRANCHY, normal((2, 3), (3,)), R),
    "vectorize_two_outputs": Spec(RETURNS_TWO, normal((2,), (3, 1)), RC),
    "vectorize_signature": Spec(ROWS_TIMES, normal((2, 3, 2), (2,)), RC),
    "vectorize_excluded_otypes": Spec(lambda a: EXCLUDING(a, 3) + CAST(a), normal((4,)),
                                      (np.float64,)),
    # polynomials
    "polyval": Spec(np.polyval, normal((4,), (2, 3)), RC),
    "polyadd": Spec(np.polyadd, normal((4,), (2,)), RC),
    "polysub": Spec(np.polysub, normal((2,), (4,)), RC),
    "polymul": Spec(np.polymul, normal((3,), (2,)), RC),
    "polyder": Spec(lambda p: np.polyder(p, 2), normal((5,)), RC),
    "polyint": Spec(lambda p, k: np.polyint(p, 2, k), normal((3,), (2,)), RC),
    "polydiv": Spec(np.polydiv, lambda d, rng: normal((5,))(d, rng)
                    + normal((2,), lo=0.8, hi=1.5)(d, rng), (np.float64, np.complex128)),
    "roots": Spec(np.roots, normal((4,)), R),
    "poly": Spec(np.poly, normal((3,)), RC),
    "poly_of_matrix": Spec(np.poly, normal((3, 3)), R),
    "polyfit": Spec(lambda x, y: np.polyfit(x, y, 2), lambda d, rng: [
        FIT_X.astype(d)] + normal((7,))(d, rng), R),
    "polyfit_weights_2d": Spec(lambda y, w: np.polyfit(FIT_X, y, 3, w=w),
                               normal((7, 2), (7,), lo=0.5, hi=2.0), R),
    "polyfit_full": Spec(lambda x, y: np.polyfit(x, y, 2, full=True)[:2],
                         lambda d, rng: [FIT_X.astype(d)] + normal((7,))(d, rng), R),
    "polyfit_cov": Spec(lambda x, y: np.polyfit(x, y, 1, cov=True),
                        lambda d, rng: [FIT_X.astype(d)] + normal((7,))(d, rng), R),
    # sets
    "unique": Spec(np.unique, normal((2, 4)), RC),
    "unique_flags": Spec(lambda x: np.unique(x, True, True, True)[0], normal((6,)), R),
    "unique_rows": Spec(lambda x: np.unique(x, axis=0), normal((3, 2)), R),
    "unique_all": Spec(lambda x: np.unique_all(x).values, normal((5,)), R),
    "unique_values": Spec(lambda x: np.unique_values(x), normal((5,)), R),
    "union1d": Spec(np.union1d, normal((3,), (4,)), R),
    "setdiff1d": Spec(lambda a: np.setdiff1d(a, a[:2]), normal((5,)), R),
    "setxor1d": Spec(lambda a, b: np.setxor1d(a, np.concatenate([a[:2], b])),
                     normal((4,), (2,)), R),
    "intersect1d": Spec(lambda a, b: np.intersect1d(a, np.concatenate([b, a[1:3]])),
                        normal((4,), (2,)), R),
    "partition": Spec(lambda x: np.partition(x, (1, 3), axis=0), normal((5, 2)), RC),
    "partition_flat": Spec(lambda x: np.partition(x, 2, axis=None), normal((2, 3)), R),
    "sort_complex": Spec(np.sort_complex, normal((5,)), RC),
    # histograms
    "bincount": Spec(lambda w: np.bincount(np.array([0, 3, 1, 3, 1]), w, minlength=5),
                     normal((5,)), R),
    "histogram_weights": Spec(lambda w: np.histogram(SAMPLES, 3, weights=w), normal((8,)), R),
    "histogram_density": Spec(lambda a, w: np.histogram(a, 3, density=True, weights=w)[0],
                              lambda d, rng: [SAMPLES.astype(d)] + normal((8,))(d, rng), R),
    "histogram_edges": Spec(lambda a: np.histogram(a, 4)[1], lambda d, rng: [SAMPLES.astype(d)],
                            R),
    "histogram_bin_edges": Spec(lambda a: np.histogram_bin_edges(a, 3, (-1.0, a[2])),
                                lambda d, rng: [SAMPLES.astype(d)], R),
    "histogram2d": Spec(lambda x, w: np.histogram2d(x, SAMPLES[::-1], 2, weights=w, density=True),
                        lambda d, rng: [SAMPLES.astype(d)] + normal((8,))(d, rng), R),
    "histogramdd": Spec(lambda s, w: np.histogramdd(s, (2, 3), weights=w)[0],
                        lambda d, rng: [np.stack([SAMPLES, SAMPLES ** 2], 1).astype(d)]
                        + normal((8,))(d, rng), R),
    # differences
    "gradient": Spec(np.gradient, normal((3, 4)), RC),
    "gradient_spacing": Spec(lambda f, h: np.gradient(f, h, axis=1), normal((2, 4), ()), RC),
    "gradient_coordinates_edge_2": Spec(
        lambda f, x, y: np.gradient(f, x, y, edge_order=2),
        lambda d, rng: normal((3, 3))(d, rng) + [np.cumsum(rng.uniform(0.5, 1.5, 3)).astype(
            np.real(np.zeros(1, d)).dtype) for _ in "xy"], RC),
    "gradient_plain_uniform_coordinates": Spec(
        lambda f: np.gradient(f, np.arange(4.0), axis=0, edge_order=2), normal((4, 2)), RC),
    "ediff1d": Spec(lambda a, e: np.ediff1d(a, to_end=e, to_begin=-1.0), normal((2, 3), (2,)),
                    RC),
    "unwrap": Spec(np.unwrap, lambda d, rng: [np.cumsum(rng.uniform(1, 3, (2, 6)), 1).astype(d)],
                   R),
    # nan_functions
    "nancumsum": Spec(lambda x: np.nancumsum(x, axis=1), with_nans((2, 3), (0, 1)), RC),
    "nancumprod": Spec(np.nancumprod, with_nans((5,), 2), RC),
    "nanvar": Spec(lambda x: np.nanvar(x, axis=0, ddof=1), with_nans((4, 2), (1, 0)), RC),
    "nanstd_keepdims": Spec(lambda x: np.nanstd(x, keepdims=True), with_nans((2, 3), (1, 2)), R),
    "nanmedian": Spec(lambda x: np.nanmedian(x, axis=1), with_nans((2, 5), (0, 3)), R),
    "nanquantile": Spec(lambda x, q: np.nanquantile(x, q, axis=0), lambda d, rng: with_nans(
        (4, 2), (2, 1))(d, rng) + [np.array([0.3, 0.8], d)], R),
    "nanpercentile": Spec(lambda x: np.nanpercentile(x, 40.0), with_nans((5,), 3), R),
    # numpy_more
    "delete": Spec(lambda a: np.delete(a, [0, 2], axis=1), normal((2, 4)), RC),
    "insert": Spec(lambda a, v: np.insert(a, 1, v, axis=0), normal((2, 3), (3,)), RC),
    "extract": Spec(lambda a: np.extract(np.arange(6).reshape(2, 3) % 2 == 0, a),
                    normal((2, 3)), RC),
    "resize": Spec(lambda a: np.resize(a, (3, 3)), normal((4,)), RC),
    "trim_zeros": Spec(lambda a: np.trim_zeros(np.concatenate([np.zeros(1, a.dtype), a,
                                                               np.zeros(2, a.dtype)])),
                       normal((3,)), RC),
    "full_like": Spec(lambda a, c: np.full_like(a, c), normal((2, 3), ()), RC),
    "astype": Spec(lambda a: np.astype(a, np.complex128), normal((3,)), R),
    "logspace": Spec(lambda s, e, b: np.logspace(s, e, 4, base=b), lambda d, rng: normal(
        (2,), ())(d, rng) + [np.asarray(rng.uniform(1.5, 3.0), d)], R),
    "geomspace": Spec(lambda s, e: np.geomspace(s, e, 5), normal((2,), (2,), lo=0.5, hi=3.0),
                      RC),
    "tensorsolve": Spec(lambda a, b: np.linalg.tensorsolve(a + 4 * np.eye(6).reshape(
        2, 3, 6), b), normal((2, 3, 6), (2, 3)), RC),
    "tensorinv": Spec(lambda a: np.linalg.tensorinv(a + 4 * np.eye(6).reshape(3, 2, 6), 2),
                      normal((3, 2, 6)), RC),
    "real_if_close": Spec(lambda z: np.real_if_close(z + 0j), normal((3,)), R),
}


def _leaves(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def sin_of_each(out):
    return [np.sin(o) for o in out] if isinstance(out, (tuple, list)) else np.sin(out)


# Cases whose functions are NumPy 2's (some of 2.2): skipped where NumPy lacks them.
NEEDS = {"matvec": "matvec", "vecmat": "vecmat", "vecdot_axis": "vecdot",
         "linalg_vecdot": "vecdot", "unique_all": "unique_all", "unique_values": "unique_all",
         "astype": "astype"}


def cases(dtypes=None):
    for name, spec in SPECS.items():
        if not hasattr(np, NEEDS.get(name, "sin")):
            continue
        for dtype in dtypes or spec.dtypes:
            if dtype in spec.dtypes:
                yield pytest.param(name, dtype, id=f"{name}-{np.dtype(dtype).name}")


@pytest.mark.parametrize("name, dtype", list(cases()))
def test_values_and_derivatives(name, dtype):
    spec = SPECS[name]
    args = spec.args(dtype, rng_for(name, dtype))
    value, _ = wg.pullback(spec.fn, *args)
    for got, want in zip(_leaves(value), _leaves(spec.fn(*args)), strict=True):
        got, want = np.asarray(got), np.asarray(want)
        assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=2e-6 if want.dtype.itemsize > 4 else 1e-4,
                                   atol=1e-12)
    check_grads(spec.fn, *args)


def check_four_nestings(f, *args):
    check_grads(f, *args, order=2)   # reverse over reverse, forward over reverse
    rng = rng_for("nestings", repr(args))
    directions = tuple(rng.standard_normal(np.shape(a)).astype(np.result_type(a)) for a in args)
    # reverse over forward, forward over forward
    check_grads(lambda *a: wg.jvp(f, a, directions)[1], *args)


@pytest.mark.parametrize("name, dtype", list(cases([np.float64])))
def test_second_order_in_all_four_nestings(name, dtype):
    spec = SPECS[name]
    args = spec.args(dtype, rng_for(name, "order 2"))
    check_four_nestings(lambda *a: sin_of_each(spec.fn(*a)), *args)


# ---------------------------------------------------------------------------------------------
# Special points: exact zeros and ones, ties, structure
# ---------------------------------------------------------------------------------------------


SPECIAL_POINTS = {
    "i0_at_0_and_1": (np.i0, [np.array([0.0, 1.0, -1.0])]),
    "roots_trailing_zero": (np.roots, [np.array([1.0, -3.0, 2.0, 0.0])]),
    "roots_after_a_leading_zero": (lambda p: np.roots(np.concatenate([[0.0], p])),
                                   [np.array([1.0, 0.5, -4.0])]),
    "polyfit_exact_fit": (lambda y: np.polyfit(FIT_X, y, 2, full=True)[:2], [FIT_X ** 2 - 1.0]),
    "geomspace_from_1": (lambda e: np.geomspace(1.0, e, 4), [np.array(1.0)]),
    "logspace_base_1": (lambda b: np.logspace(0.0, 1.0, 3, base=b), [np.array(1.0)]),
    "gradient_of_zeros": (lambda f, h: np.gradient(f, h), [np.zeros(4), np.array(1.0)]),
    "nanvar_of_a_constant": (lambda x: np.nanvar(x), [np.array([1.0, np.nan, 1.0, 1.0])]),
    "degrees_at_0": (np.degrees, [np.zeros(2)]),
    "ldexp_at_0": (lambda x: np.ldexp(x, 2) ** 2, [np.zeros(2)]),
    "histogram_zero_weights": (lambda w: np.histogram(SAMPLES, 3, weights=w)[0] ** 2,
                               [np.zeros(8)]),
    "piecewise_zero_constant": (lambda x: np.piecewise(x, [x < 0.5], [0.0, np.exp]),
                                [np.array([0.0, 1.0])]),
}


@pytest.mark.parametrize("name", list(SPECIAL_POINTS))
def test_special_points(name):
    f, args = SPECIAL_POINTS[name]
    check_four_nestings(lambda *a: sin_of_each(f(*a)), *args)


@pytest.mark.parametrize("fn, args, kwargs", [
    (np.modf, [SAMPLES + 0.25], {}), (np.divmod, [SAMPLES + 0.25, SAMPLES[::-1] + 3.0], {}),
    (np.unique, [SAMPLES], {}), (np.unique, [SAMPLES.reshape(4, 2)], {"axis": 0}),
    (np.i0, [SAMPLES], {}), (np.degrees, [SAMPLES], {}), (np.radians, [SAMPLES], {}),
], ids=["modf", "divmod", "unique", "unique_rows", "i0", "degrees", "radians"])
def test_hand_written_rules_check_out(fn, args, kwargs):
    wg.testing.check_rrule(fn, *args, **kwargs)
    wg.testing.check_frule(fn, *args, **kwargs)


def test_real_if_close_drops_an_imaginary_part_of_zero():
    z = np.array([1.0 + 0j, 2.0 + 0j])
    (g,) = wg.gradient(lambda z: np.sum(np.real_if_close(z) ** 2), z)
    np.testing.assert_allclose(g, 2 * z)
    y, dy = wg.jvp(np.real_if_close, (z,), (np.array([1.0 + 1j, 0.5j]),))
    assert y.dtype == np.float64 and dy.dtype == np.float64
    np.testing.assert_array_equal(dy, [1.0, 0.0])


def test_unique_shares_a_cotangent_among_equal_values():
    x = np.array([1.0, 2.0, 1.0, 3.0, 2.0, 1.0])
    weights = np.array([1.0, 10.0, 100.0])
    (g,) = wg.gradient(lambda x: np.sum(np.unique(x) * weights), x)
    np.testing.assert_allclose(g, [1 / 3, 5.0, 1 / 3, 100.0, 5.0, 1 / 3])
    _, dy = wg.jvp(np.unique, (x,), (np.arange(6.0),))
    np.testing.assert_allclose(dy, [(0 + 2 + 5) / 3, (1 + 4) / 2, 3.0])
    rows = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])
    (g,) = wg.gradient(lambda r: np.sum(np.unique(r, axis=0) * np.array([[1.0], [2.0]])), rows)
    np.testing.assert_allclose(g, [[0.5, 0.5], [2.0, 2.0], [0.5, 0.5]])
    values, index, inverse, counts = wg.pullback(lambda x: np.unique(x, True, True, True), x)[0]
    for got, want in zip((index, inverse, counts), np.unique(x, True, True, True)[1:]):
        np.testing.assert_array_equal(got, want)


def test_intersect1d_splits_a_common_value_between_its_arguments():
    a, b = np.array([1.0, 2.0, 5.0]), np.array([5.0, 2.0, 7.0])
    ga, gb = wg.gradient(lambda a, b: np.sum(np.intersect1d(a, b) * np.array([1.0, 3.0])), a, b)
    np.testing.assert_allclose(ga, [0.0, 0.5, 1.5])
    np.testing.assert_allclose(gb, [1.5, 0.5, 0.0])


def test_partition_and_sort_complex_equal_numpys_arrangement(rng):
    x = rng.standard_normal((4, 9))
    for kth, axis in ((3, -1), ((0, 5, 8), 1), (2, 0), (7, None)):
        got = wg.pullback(lambda x: np.partition(x, kth, axis=axis), x)[0]
        np.testing.assert_array_equal(got, np.partition(x, kth, axis=axis))
    z = np.array([1 + 2j, 1 - 1j, -3 + 0j, 1 + 0j])
    np.testing.assert_array_equal(wg.pullback(np.sort_complex, z)[0], np.sort_complex(z))


def test_piecewise_calls_a_function_only_with_its_elements():
    calls = []

    def spy(v):
        calls.append(np.shape(v))
        return 2 * v

    x = np.array([-1.0, 0.5, 2.0])
    (g,) = wg.gradient(lambda x: np.sum(np.piecewise(x, [x > 10, x > 0, x > 1],
                                                     [spy, spy, np.square])), x)
    assert calls == [(2,)]   # the first condition holds nowhere; the last overrides one
    np.testing.assert_allclose(g, [0.0, 2.0, 4.0])


# ---------------------------------------------------------------------------------------------
# np.vectorize through its door, outputs without tangents, refusals
# ---------------------------------------------------------------------------------------------

def test_vectorize_without_tracers_is_numpys_own_call():
    out = BRANCHY(np.array([1.0, -1.0]), 2.0)
    np.testing.assert_array_equal(out, [np.sin(2.0), 4.0])
    assert type(np.vectorize.__call__(BRANCHY, 1.0, 2.0)) is np.ndarray
    with pytest.raises(ValueError, match="otypes"):
        BRANCHY(np.zeros(0), 1.0)


def test_vectorize_refuses_what_it_cannot_follow():
    with pytest.raises(wg.DifferentiationError, match="keyword"):
        wg.gradient(lambda x: np.sum(np.vectorize(lambda a, b: a * b)(1.0, b=x)), np.ones(2))
    import math
    with pytest.raises(wg.DifferentiationError, match="float"):
        wg.gradient(lambda x: np.sum(np.vectorize(math.exp)(x)), np.ones(2))


@pytest.mark.parametrize("f", [
    lambda x: np.argpartition(x, 1), lambda x: np.isin(x, [0.5]), lambda x: np.nanargmax(x),
    lambda x: np.lexsort((x, -x)), lambda x: np.digitize(x, [0.0, 1.0]),
    lambda x: np.frexp(x)[1], lambda x: np.array_repr(x),
    lambda x: np.unique(x, return_counts=True)[1], lambda x: np.histogram(x, 2)[0],
])
def test_positions_flags_counts_and_text_carry_no_tangent(f):
    x = np.array([0.2, -1.0, 0.7, 3.0])
    out = []
    wg.gradient(lambda x: (out.append(f(x)), np.sum(x))[1], x)
    assert not isinstance(out[0], wg.arraytypes.TracedValue)
    assert np.all(np.asarray(out[0] == f(x)))
    _, dy = wg.jvp(lambda x: np.sum(np.asarray(f(x), float)) if not isinstance(f(x), str)
                   else 0.0, (x,), (np.ones(4),))
    assert dy == 0


@pytest.mark.parametrize("call, match", [
    *([(lambda x: np.matvec(np.eye(2), x, axes=[(0, 1), (0,), (0,)]), "matvec.*keyword")]
      if hasattr(np, "matvec") else []),   # NumPy 2.2
    (lambda x: np.histogram(x, bins="auto"), "bins='auto'"),
    (lambda x: np.nanvar(x, where=x > 0), "where="),
    (lambda x: np.nanquantile(x, 0.5, weights=np.ones(2)), "weights="),
    (lambda x: np.put(x, [0], x[1]), "np.put .*in place"),
    (lambda x: np.savez(__file__ + ".never", x), "np.savez .*file"),
])
def test_refusals_name_the_function_and_the_way_out(call, match):
    for transform in (lambda f: wg.gradient(lambda x: np.sum(f(x)[0]), np.ones(2)),
                      lambda f: wg.jvp(lambda x: f(x)[0], (np.ones(2),), (np.ones(2),))):
        with pytest.raises(wg.DifferentiationError, match=match):
            transform(call)
