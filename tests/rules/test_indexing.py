"""Derivative checks of indexing and selection in both modes: x[...] in all its forms, take,
take_along_axis, where, select, choose, and the sparse tangents and cotangents behind them."""
import operator

import numpy as np
import pytest

import wengert as wg
from wengert.registry import forward_rules
from wengert.rules.indexing import place_at, read_point, scatter_add
from wengert.tangents import ZERO, Indexed, OneHot, to_dense
from wengert.testing import check_grads

DTYPES = [np.float32, np.float64, np.complex128]
IDX = np.array([[0, 2], [2, 2]])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, True, False]])


def array(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def product_of_reads(x):
    """Reads elements repeatedly in a Python loop, so cotangents of one element add up."""
    total = x[0] * x[-1]
    for i in range(len(x)):
        total = total + x[i] * x[i // 2]
    return total


# (id, function of x, shape of x, order): one row per indexing form.
INDEXING = [
    ("integer", lambda x: x[2], (4,), 2),
    ("negative integer", lambda x: x[-1], (4,), 1),
    ("two integers give 0-d", lambda x: x[1, 2], (3, 4), 1),
    ("empty tuple on 0-d", lambda x: x[()], (), 1),
    ("slice", lambda x: x[1:3], (5,), 2),
    ("strided slice", lambda x: x[::2], (5,), 1),
    ("negative step", lambda x: x[::-1], (5,), 2),
    ("negative step with bounds", lambda x: x[3:0:-2], (5,), 1),
    ("slices in 2d", lambda x: x[1:, ::-1], (3, 4), 1),
    ("row", lambda x: x[1], (3, 4), 1),
    ("integer array with repeats", lambda x: x[np.array([0, 0, 3, 3, 3])], (4,), 2),
    ("2d integer array", lambda x: x[IDX], (3,), 1),
    ("list with repeats", lambda x: x[[1, 1, 0]], (3,), 2),
    ("negative integer array", lambda x: x[np.array([-1, -1, 0])], (3,), 1),
    ("paired integer arrays", lambda x: x[[0, 2, 0], [1, 1, 1]], (3, 4), 2),
    ("boolean mask", lambda x: x[MASK], (3, 4), 2),
    ("boolean row mask", lambda x: x[np.array([True, False, True])], (3, 4), 1),
    ("list of booleans", lambda x: x[[True, False, True]], (3,), 1),
    ("mask from a comparison", lambda x: x[np.abs(x) > 0.5], (3, 4), 1),
    ("newaxis", lambda x: x[np.newaxis], (3,), 1),
    ("None in the middle", lambda x: x[:, None, 1:], (3, 4), 1),
    ("ellipsis", lambda x: x[..., 1], (2, 3, 4), 1),
    ("ellipsis and newaxis", lambda x: x[None, ..., ::-1, None], (2, 3), 1),
    ("ellipsis with integer array", lambda x: x[..., [3, 3, 0]], (2, 4), 2),
    ("slice then repeated array", lambda x: x[1:, [0, 0, 2]], (3, 4), 1),
    ("integer then array", lambda x: x[1, [0, 0, 2]], (3, 4), 1),
    ("arrays split by a slice", lambda x: x[[0, 1, 1], :, [2, 2, 0]], (2, 2, 3), 1),
    ("newaxis then array", lambda x: x[None, [1, 1], ...], (3, 2), 1),
    ("mask then slice", lambda x: x[np.array([True, False, True]), 1:], (3, 4), 1),
    ("repeated reads in a loop", product_of_reads, (5,), 2),
    ("iteration over rows", lambda x: sum(row * row for row in x), (3, 2), 2),
    ("index of index", lambda x: x[1:][::-1][[0, 0]], (4,), 1),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name, fn, shape, order", INDEXING, ids=[p[0] for p in INDEXING])
def test_indexing_gradient(name, fn, shape, order, dtype, rng):
    check_grads(fn, array(shape, dtype, rng))


SECOND_ORDER = [p for p in INDEXING if p[3] == 2]


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
@pytest.mark.parametrize("name, fn, shape, order", SECOND_ORDER, ids=[p[0] for p in SECOND_ORDER])
def test_indexing_second_order(name, fn, shape, order, dtype, rng):
    # Squared, so that the gradient depends on x and its own pullback goes through indexing.
    check_grads(lambda x: fn(x) * fn(x), array(shape, dtype, rng), order=2)


ARGSORT_3x4 = np.array([[2, 0, 1, 3], [3, 3, 0, 1], [1, 2, 0, 0]])

# (id, function of the array arguments, shapes of those arguments, order)
SELECTION = [
    ("take flat", lambda x: np.take(x, [5, 0, 5, -1]), [(3, 4)], 2),
    ("take scalar index", lambda x: np.take(x, 7), [(3, 4)], 1),
    ("take axis 0", lambda x: np.take(x, [2, 2, 0], axis=0), [(3, 4)], 1),
    ("take axis 1 repeated", lambda x: np.take(x, [[1, 1], [3, 1]], axis=1), [(3, 4)], 2),
    ("take negative axis", lambda x: np.take(x, [0, -1, -1], axis=-1), [(2, 3)], 1),
    ("take wrap", lambda x: np.take(x, [4, -5, 1], mode="wrap"), [(3,)], 1),
    ("take clip", lambda x: np.take(x, [7, -2, 1], mode="clip"), [(3,)], 1),
    ("take method", lambda x: x.take([1, 1], axis=1), [(2, 3)], 1),
    ("take_along_axis last", lambda x: np.take_along_axis(x, ARGSORT_3x4, axis=1),
     [(3, 4)], 2),
    ("take_along_axis first", lambda x: np.take_along_axis(x, ARGSORT_3x4[:2] % 3, 0),
     [(3, 4)], 1),
    ("take_along_axis broadcast", lambda x: np.take_along_axis(x, np.array([[1, 1]]), 0),
     [(3, 2)], 1),
    ("take_along_axis flat", lambda x: np.take_along_axis(x, np.array([5, 5, -1]), None),
     [(2, 3)], 1),
    ("take_along_axis of argsort", lambda x: np.take_along_axis(x, np.argsort(x, 1), 1),
     [(3, 4)], 1),
    ("where", lambda x, y: np.where(MASK, x, y), [(3, 4), (3, 4)], 2),
    ("where broadcast", lambda x, y: np.where(MASK, x, y), [(3, 1), (4,)], 1),
    ("where broadcast condition", lambda x, y: np.where(MASK[0], x, y), [(3, 4), (1, 4)], 1),
    ("where scalar branch", lambda x: np.where(MASK, x, 0.0), [(3, 4)], 2),
    ("where scalar first branch", lambda y: np.where(MASK, -1.0, y), [(4,)], 1),
    ("where on values", lambda x: np.where(np.abs(x) > 0.5, x * x, -x), [(3, 4)], 2),
    ("where with 0-d branch", lambda x, s: np.where(MASK, x, s), [(3, 4), ()], 1),
    ("select", lambda x, y: np.select([MASK, ~MASK[0]], [x, y]), [(3, 4), (4,)], 1),
    ("select with default", lambda x, y, d: np.select([MASK, MASK[1]], [x, y], d),
     [(3, 4), (3, 4), (3, 1)], 1),
    ("choose list", lambda x, y: np.choose(IDX % 2, [x, y]), [(2, 2), (2,)], 1),
    ("choose array", lambda c: np.choose(np.array([[0, 2, 1], [2, 2, 0]]), c), [(3, 2, 3)], 1),
    ("choose wrap", lambda x, y: np.choose(np.array([3, -1, 2]), [x, y], mode="wrap"),
     [(3,), (3,)], 1),
    ("choose clip", lambda x, y: np.choose(np.array([3, -1, 2]), [x, y], mode="clip"),
     [(3,), (3,)], 1),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name, fn, shapes, order", SELECTION, ids=[p[0] for p in SELECTION])
def test_selection_gradient(name, fn, shapes, order, dtype, rng):
    args = [array(shape, dtype, rng) for shape in shapes]
    check_grads(fn, *args)


SELECTION_SECOND_ORDER = [p for p in SELECTION if p[3] == 2]


@pytest.mark.parametrize("name, fn, shapes, order", SELECTION_SECOND_ORDER,
                         ids=[p[0] for p in SELECTION_SECOND_ORDER])
def test_selection_second_order(name, fn, shapes, order, rng):
    args = [array(shape, np.float64, rng) for shape in shapes]
    check_grads(lambda *a: fn(*a) ** 3, *args, order=2)


# ---------------------------------------------------------------------------------------------
# Behaviour beyond the derivative values
# ---------------------------------------------------------------------------------------------

def test_where_branch_not_taken_leaks_no_nan():
    x = np.array([0.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        (g,) = wg.gradient(lambda x: np.sum(np.where(x > 0, np.sqrt(x), 0.0)), x)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [0.0, 0.25])


def test_real_input_read_into_complex_gets_real_cotangent(rng):
    x = array(4, np.float64, rng)
    (g,) = wg.gradient(lambda x: np.abs(x[1] * (1 + 2j) + x[[0, 0]].sum()) ** 2, x)
    assert g.dtype == np.float64
    check_grads(lambda x: x[[2, 2, 1]] * 1j + x[0], x)


def test_pullback_of_a_read_is_sparse(rng):
    x = array((1000,), np.float64, rng)
    ct = place_at(x, 7, np.float64(2.0))
    assert isinstance(ct, Indexed)
    assert ct.shape == (1000,) and ct.index == 7


def test_loop_over_every_element_gives_the_right_gradient(rng):
    n = 2000
    x = array(n, np.float64, rng)
    (g,) = wg.gradient(lambda x: sum(x[i] * x[i] for i in range(n)), x)
    np.testing.assert_allclose(g, 2 * x)


def test_loop_with_repeated_reads_accumulates(rng):
    x = array(6, np.float64, rng)
    (g,) = wg.gradient(lambda x: sum(x[i % 3] for i in range(9)) + x[np.array([5, 5])].sum(), x)
    np.testing.assert_allclose(g, [3, 3, 3, 0, 0, 2])


def test_gradient_of_gradient_through_repeated_index(rng):
    x = array(3, np.float64, rng)
    index = np.array([0, 2, 2, 2])

    def grad_norm(x):
        (g,) = wg.gradient(lambda y: np.sum(y[index] ** 3), x)
        return np.sum(g * g)

    # g = 3 c x², c = [1, 0, 3] counts; Σ g² = 9 Σ c² x⁴; its gradient 36 c² x³.
    counts = np.array([1.0, 0.0, 3.0])
    (h,) = wg.gradient(grad_norm, x)
    np.testing.assert_allclose(h, 36 * counts ** 2 * x ** 3)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
def test_scatter_add_nests(dtype, rng):
    base = array((3, 4), dtype, rng)
    values = array((3,), dtype, rng)
    index = (np.array([0, 2, 0]), np.array([1, 1, 1]))
    result = scatter_add(base, index, values)
    expected = base.copy()
    np.add.at(expected, index, values)
    np.testing.assert_allclose(result, expected)
    check_grads(lambda b, v: scatter_add(b, index, v) ** 2, base, values, order=2)


def test_scatter_add_broadcasts_values(rng):
    base = array((3, 4), np.float64, rng)
    check_grads(lambda b, v: scatter_add(b, (slice(None), [0, 0]), v), base,
                array((1, 2), np.float64, rng))


# ---------------------------------------------------------------------------------------------
# Forward mode: sparse tangents, nesting
# ---------------------------------------------------------------------------------------------

def frule(fn):
    return forward_rules.generic[fn].impl


def forward_over_forward(fn, args, rng):
    """Check the forward derivative of a forward derivative: the inner jvp runs on the
    outer level's dual numbers."""
    directions = tuple(array(np.shape(a), np.asarray(a).dtype, rng) for a in args)
    check_grads(lambda *a: wg.jvp(fn, a, directions)[1], *args, modes=("forward",))


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
@pytest.mark.parametrize("name, fn, shape, order", SECOND_ORDER, ids=[p[0] for p in SECOND_ORDER])
def test_indexing_forward_over_forward(name, fn, shape, order, dtype, rng):
    forward_over_forward(lambda x: fn(x) * fn(x), [array(shape, dtype, rng)], rng)


@pytest.mark.parametrize("name, fn, shapes, order", SELECTION_SECOND_ORDER,
                         ids=[p[0] for p in SELECTION_SECOND_ORDER])
def test_selection_forward_over_forward(name, fn, shapes, order, rng):
    forward_over_forward(lambda *a: fn(*a) ** 3, [array(s, np.float64, rng) for s in shapes], rng)


# Every row's Jacobian built column by column from one-hot tangents, which take the sparse
# paths, against the reverse-mode Jacobian. Not select's default alone: np.select does not
# offer its default argument to __array_function__, so with constant choices NumPy runs
# itself on the traced default (and wengert refuses its np.asarray).
JACOBIAN_ROWS = [(p[0], p[1], [p[2]]) for p in INDEXING] + [p[:3] for p in SELECTION
                                                             if p[0] != "select with default"]


@pytest.mark.parametrize("name, fn, shapes", JACOBIAN_ROWS, ids=[p[0] for p in JACOBIAN_ROWS])
def test_forward_jacobian_from_one_hot_tangents(name, fn, shapes, rng):
    args = [array(shape, np.float64, rng) for shape in shapes]
    for j_forward, j_reverse in zip(wg.jacobian(fn, *args, mode="forward"),
                                    wg.jacobian(fn, *args)):
        np.testing.assert_allclose(j_forward, j_reverse, rtol=1e-12, atol=1e-12)


BASIC_INDICES = [
    0, -1, 2, (1, 3), (-1, 0), slice(None), slice(1, 3), slice(None, None, -1),
    slice(3, 0, -2), slice(None, None, 2), (slice(1, None), 2), (Ellipsis, 1),
    (Ellipsis, slice(None, None, -1)), (None, 1), (1, None), (None, Ellipsis, None),
    (slice(None), None, slice(0, 4, 3)), (2, Ellipsis), (), Ellipsis,
]


@pytest.mark.parametrize("index", BASIC_INDICES, ids=repr)
def test_a_point_read_by_a_basic_index_stays_sparse(index):
    shape = (4, 5)
    for k in range(20):
        point = tuple(int(i) for i in np.unravel_index(k, shape))
        # A one-hot point; a row and a column, as matmul leaves them.
        row = Indexed(point[:1], np.arange(1.0, 6.0), shape, np.float64)
        column = Indexed((slice(None), point[1]), np.arange(1.0, 5.0), shape, np.float64)
        last = Indexed((Ellipsis, point[1]), np.arange(1.0, 5.0), shape, np.float64)
        for t in (OneHot(point, shape), row, column, last):
            expected = to_dense(t)[index]
            read = read_point(t, index, np.shape(expected), np.float64)
            assert read is ZERO or isinstance(read, (Indexed, np.ndarray, np.generic))
            got = np.zeros(np.shape(expected)) if read is ZERO else to_dense(read)
            np.testing.assert_array_equal(np.broadcast_to(got, np.shape(expected)), expected)
            if read is ZERO:
                assert not np.any(expected)


INDICES_3D = [1, (1, 2), (0, slice(None), 3), (slice(None), None, 1), (Ellipsis, None, 2),
              (slice(None, None, -1), slice(1, 3)), (1, 2, 3), (None, 0, Ellipsis, slice(0, 4, 2))]


@pytest.mark.parametrize("index", INDICES_3D, ids=repr)
def test_pinned_axes_read_by_a_basic_index(index, rng):
    shape = (2, 3, 4)
    tangents = [
        Indexed((1, slice(None), 2), rng.standard_normal(3), shape, np.float64),
        Indexed((Ellipsis, 1, slice(None)), rng.standard_normal((2, 4)), shape, np.float64),
        Indexed((0, 2), rng.standard_normal(4), shape, np.float64),
        Indexed((slice(None), 1), rng.standard_normal(4), shape, np.float64),  # broadcast
    ]
    for t in tangents:
        expected = to_dense(t)[index]
        read = read_point(t, index, np.shape(expected), np.float64)
        got = np.zeros(np.shape(expected)) if read is ZERO else to_dense(read)
        np.testing.assert_array_equal(np.broadcast_to(got, np.shape(expected)), expected)


def test_getitem_frule_keeps_a_one_hot_sparse(rng):
    x = array(1000, np.float64, rng)
    t = OneHot(7, (1000,))
    getitem = frule(operator.getitem)
    assert getitem([t, ZERO], x, 8)[1] is ZERO
    out, hit = getitem([t, ZERO], x, 7)
    assert out == x[7] and np.ndim(hit) == 0 and hit == 1
    _, window = getitem([t, ZERO], x, slice(5, 10))
    assert isinstance(window, Indexed) and window.index == (2,) and window.shape == (5,)
    _, reversed_ = getitem([t, ZERO], x, slice(None, None, -1))
    assert isinstance(reversed_, Indexed) and reversed_.index == (992,)
    # An advanced index falls back to a dense read, repeats included.
    _, repeated = getitem([t, ZERO], x, [7, 7, 1])
    np.testing.assert_array_equal(repeated, [1, 1, 0])
    # A row of a matrix: a point of the row, or nothing.
    m = array((50, 40), np.float64, rng)
    _, row = getitem([OneHot((3, 5), m.shape), ZERO], m, 3)
    assert isinstance(row, Indexed) and row.index == (5,) and row.shape == (40,)
    assert getitem([OneHot((3, 5), m.shape), ZERO], m, 4)[1] is ZERO


def test_partial_through_a_loop_never_densifies(monkeypatch, rng):
    n = 2000
    x = array(n, np.float64, rng)

    def refuse(self):
        raise AssertionError("a sparse tangent was made dense")

    monkeypatch.setattr(Indexed, "to_dense", refuse)
    f = lambda x: sum(x[i] * x[i] for i in range(0, n, 7))
    assert wg.partial(f, x, index=700) == pytest.approx(2 * x[700])
    assert wg.partial(f, x, index=701) == 0


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
def test_partial_through_reads_and_where(dtype, rng):
    x = array((3, 4), dtype, rng)
    f = lambda x: np.where(MASK, x * x, 0.0)[1:, ::-1] * x[2, 1]
    (jacobian,) = wg.jacobian(f, x, mode="forward")
    for k in range(x.size):
        index = tuple(int(i) for i in np.unravel_index(k, x.shape))
        tangent = np.zeros_like(x)
        tangent[index] = 1
        expected = wg.jvp(f, (x,), (tangent,))[1]
        np.testing.assert_allclose(wg.partial(f, x, index=index), expected, atol=1e-14)
        np.testing.assert_allclose(jacobian[(...,) + index], expected, atol=1e-14)


def test_where_keeps_the_taken_branch_sparse(rng):
    x, y = array((3, 4), np.float64, rng), array((3, 4), np.float64, rng)
    where = frule(np.where)
    for point, kept in (((0, 0), True), ((0, 1), False)):
        _, t = where([ZERO, OneHot(point, x.shape), ZERO], MASK, x, y)
        assert isinstance(t, Indexed) and t.index == point
        assert to_dense(t)[point] == (1.0 if kept else 0.0)
        _, t = where([ZERO, ZERO, OneHot(point, y.shape)], MASK, x, y)
        assert isinstance(t, Indexed) and to_dense(t)[point] == (0.0 if kept else 1.0)
    # Both branches moving: a dense tangent.
    _, t = where([ZERO, OneHot((0, 0), x.shape), np.ones_like(y)], MASK, x, y)
    np.testing.assert_array_equal(t, np.where(MASK, to_dense(OneHot((0, 0), x.shape)), 1.0))


def test_hessian_through_reads(rng):
    # f = Σ x_i x_{i+1}: the Hessian has ones beside the diagonal.
    x = array(6, np.float64, rng)
    h = wg.hessian(lambda x: sum(x[i] * x[i + 1] for i in range(5)), x)
    np.testing.assert_allclose(h, np.eye(6, k=1) + np.eye(6, k=-1))


def test_scatter_add_forward_places_the_values_tangent(rng):
    base, values = array((3, 4), np.float64, rng), array((2,), np.float64, rng)
    index = (np.array([0, 0]), np.array([1, 1]))
    _, t = wg.jvp(lambda b, v: scatter_add(b, index, v), (base, values),
                  (np.zeros_like(base), np.array([1.0, 2.0])))
    expected = np.zeros_like(base)
    expected[0, 1] = 3.0
    np.testing.assert_array_equal(t, expected)
