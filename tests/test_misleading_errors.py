"""Calls that used to fail with an error about something else (RecursionError, AttributeError,
a rule's TypeError): each now works, with derivatives checked in both modes, or raises a
DifferentiationError that names the call and the way out."""
import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_grads

rng = np.random.default_rng(2024)
X = rng.uniform(0.5, 1.5, 3)
A = rng.standard_normal((2, 3))
B = rng.standard_normal((2, 2))
BOTH = ("reverse", "forward")


def tangent_of(f, x):
    """The forward-mode tangent of ``f`` at ``x`` along ones."""
    return wg.jvp(f, (x,), (np.ones_like(x),))[1]


# ---------------------------------------------------------------------------------------------
# np.block: nested lists of tracers, differentiated through concatenate
# ---------------------------------------------------------------------------------------------

BLOCKS = {
    "row of vectors": (lambda x: np.block([[x, x]]), X),
    "vectors and a constant": (lambda x: np.block([x, 2 * x, np.ones(2)]), X),
    "2x2 of matrices": (lambda a: np.block([[a, a ** 2], [np.zeros((2, 3)), 3 * a]]), A),
    "mixed blocks": (lambda a: np.block([[a, B], [a[:1] * 2, np.ones((1, 2))]]), A),
    "scalars": (lambda x: np.block([[x[0], 2.0], [x[1], x[2]]]), X),
    "depth 3": (lambda x: np.block([[[x]], [[x ** 2]]]), X),
}


@pytest.mark.parametrize("name", BLOCKS)
def test_block_of_tracers_is_numpys_block(name):
    f, x = BLOCKS[name]
    value, _ = wg.pullback(f, x)
    np.testing.assert_array_equal(value, f(x))
    assert tangent_of(f, x).shape == np.shape(f(x))
    check_grads(f, x, modes=BOTH)


def test_block_second_order_and_precision():
    check_grads(lambda x: np.sum(np.block([[x, x ** 2]]) ** 2), X, modes=BOTH, order=2)
    x32 = X.astype(np.float32)
    f = lambda x: np.block([[x, x]])   # noqa: E731
    assert wg.gradient(lambda x: np.sum(f(x)), x32)[0].dtype == np.float32
    assert tangent_of(f, x32).dtype == np.float32
    np.testing.assert_array_equal(wg.gradient(lambda x: np.sum(f(x)), X)[0], [2, 2, 2])


def test_block_refuses_what_numpy_refuses():
    with pytest.raises(ValueError, match="depths are mismatched"):
        wg.gradient(lambda x: np.sum(np.block([[x], x])), X)
    with pytest.raises(ValueError, match="cannot be empty"):
        wg.gradient(lambda x: np.sum(np.block([[x], []])), X)


# ---------------------------------------------------------------------------------------------
# out=None is the default spelled out; a real out= array is refused by name
# ---------------------------------------------------------------------------------------------

OUT_NONE = {
    "dot": lambda x: np.dot(x, A.T, out=None),
    "dot of matrices": lambda x: np.dot(A, np.outer(x, x), out=None),
    "sum": lambda x: np.sum(x ** 2, out=None),
    "cumsum": lambda x: np.cumsum(x, out=None),
    "take": lambda x: np.take(x, [2, 0], out=None),
    "clip": lambda x: np.clip(x, 0.8, 1.2, out=None),
}


@pytest.mark.parametrize("name", OUT_NONE)
def test_out_none_works(name):
    f = OUT_NONE[name]
    np.testing.assert_allclose(wg.pullback(f, X)[0], f(X))
    check_grads(f, X, modes=BOTH)


def test_dot_into_an_array_is_refused_by_name():
    out = np.empty(2)
    with pytest.raises(wg.DifferentiationError, match=r"np\.dot\(\.\.\., out=\.\.\.\).*Drop out="):
        wg.gradient(lambda x: np.sum(np.dot(x, A.T, out=out)), X)


# ---------------------------------------------------------------------------------------------
# x.view: the value itself, or refused where the derivative would be lost
# ---------------------------------------------------------------------------------------------

VIEWS = {
    "no argument": lambda x: x.view(),
    "ndarray": lambda x: x.view(np.ndarray),
    "own dtype": lambda x: x.view(x.dtype),
    "ndarray by keyword": lambda x: x.view(type=np.ndarray),
}


@pytest.mark.parametrize("name", VIEWS)
def test_view_keeping_dtype_and_type_is_the_value(name):
    f = VIEWS[name]
    np.testing.assert_array_equal(wg.pullback(lambda a: f(a) * 2, A)[0], A * 2)
    check_grads(lambda a: f(a) ** 2, A, modes=BOTH)


def test_view_as_another_dtype_is_refused():
    with pytest.raises(wg.DifferentiationError, match=r"x\.view\(int64\).*x\.astype"):
        wg.gradient(lambda x: np.sum(x.view(np.int64)), X)
    # complex → real is a reinterpretation too (interleaved parts): refused, not dropped.
    with pytest.raises(wg.DifferentiationError, match=r"view\(float64\).*stop_gradient"):
        wg.gradient(lambda z: np.sum(z.view(np.float64)), X + 1j)


def test_view_as_another_array_type_is_refused():
    with pytest.raises(wg.DifferentiationError, match=r"x\.view\(matrix\).*stop_gradient"):
        wg.gradient(lambda a: np.sum(a.view(np.matrix)), A)


# ---------------------------------------------------------------------------------------------
# x.flat: reading is np.ravel(x)[i]; writing and converting are refused
# ---------------------------------------------------------------------------------------------

FLAT_READS = {"int": 4, "negative int": -1, "slice": slice(1, 5), "indices": [0, 5, 2]}


@pytest.mark.parametrize("name", FLAT_READS)
def test_flat_reads_are_ravel_indexing(name):
    index = FLAT_READS[name]
    f = lambda a: a.flat[index] * 3   # noqa: E731
    np.testing.assert_array_equal(wg.pullback(f, A)[0], np.ravel(A)[index] * 3)
    check_grads(f, A, modes=BOTH)


def test_flat_iterates_and_has_a_length():
    def f(a):
        assert len(a.flat) == a.size
        return sum(v ** 2 for v in a.flat)

    np.testing.assert_allclose(wg.gradient(f, A)[0], 2 * A)
    np.testing.assert_allclose(tangent_of(f, A), np.sum(2 * A))


def test_flat_writes_are_writes_and_conversions_are_refused():
    def write(a):
        a.flat[0] = 1.0
        a.flat[[2, -1]] = a.flat[1] * 3.0
        return np.sum(a * a)

    expected = 2 * A
    expected.flat[[0, 2, -1]] = 0.0
    expected.flat[1] = 38 * A.flat[1]   # its own square, and twice (3 a)²
    np.testing.assert_allclose(wg.gradient(write, A)[0], expected)
    with pytest.raises(wg.DifferentiationError, match=r"np\.asarray\(x\.flat\).*np\.ravel\(x\)"):
        wg.gradient(lambda a: np.sum(np.asarray(a.flat)), A)


# ---------------------------------------------------------------------------------------------
# nbytes, itemsize: metadata of the value
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [A.astype(np.float32), A, X + 1j, 2.0],
                         ids=["float32", "float64", "complex128", "python float"])
def test_nbytes_and_itemsize_are_the_values(value):
    plain = np.asarray(value)
    seen = []

    def f(x):
        seen.append((x.nbytes, x.itemsize))
        return np.sum(np.abs(x) ** 2)

    wg.gradient(f, value)
    wg.jvp(f, (value,), (value,))
    assert seen == [(plain.nbytes, plain.itemsize)] * 2


# ---------------------------------------------------------------------------------------------
# compress: np.compress and the method, through np.take of the selected indices
# ---------------------------------------------------------------------------------------------

COMPRESSES = {
    "method, axis 0": lambda a: a.compress([False, True], axis=0),
    "method, axis 1": lambda a: a.compress([True, False, True], axis=1),
    "method, flattened": lambda a: a.compress([True, False, False, True]),
    "function, negative axis": lambda a: np.compress(np.array([0, 1, 1]), a, axis=-1),
    "short condition": lambda a: np.compress([False, True], a, axis=1),
    "traced condition": lambda a: np.compress(np.sum(a, axis=1) > -10, a ** 2, axis=0),
    "nothing selected": lambda a: np.compress([False, False], a, axis=0),
}


@pytest.mark.parametrize("name", COMPRESSES)
def test_compress_is_numpys_compress(name):
    f = COMPRESSES[name]
    np.testing.assert_array_equal(wg.pullback(f, A)[0], f(A))
    np.testing.assert_array_equal(wg.jvp(f, (A,), (A,))[0], f(A))
    if np.size(f(A)):
        check_grads(f, A, modes=BOTH)
    else:
        assert np.all(wg.gradient(lambda a: np.sum(f(a)), A)[0] == 0)


def test_compress_gradient_values_and_second_order():
    g = wg.gradient(lambda a: np.sum(a.compress([True, False, True], axis=1) ** 2), A)[0]
    np.testing.assert_allclose(g, 2 * A * np.array([1, 0, 1]))
    check_grads(lambda a: np.sum(np.compress([1, 0, 1], a, axis=1) ** 3), A, modes=BOTH,
                order=2)


def test_compress_refuses_a_2d_condition():
    with pytest.raises(ValueError, match="1-d"):
        wg.gradient(lambda a: np.sum(np.compress([[True]], a)), A)


# ---------------------------------------------------------------------------------------------
# np.fromiter: NumPy hides the refusal inside its own ValueError
# ---------------------------------------------------------------------------------------------

def test_fromiter_of_a_tracer_names_the_way_out():
    # np.fromiter offers no protocol to intercept: NumPy replaces the error of float() on each
    # traced element by "setting an array element with a sequence" and chains wengert's
    # DifferentiationError as its cause, whose message names np.fromiter and np.stack.
    with pytest.raises(ValueError) as raised:
        wg.gradient(lambda x: np.sum(np.fromiter(x, float)), X)
    cause = raised.value.__cause__
    assert isinstance(cause, wg.DifferentiationError)
    assert "np.fromiter" in str(cause) and "np.stack" in str(cause)


# ---------------------------------------------------------------------------------------------
# wg.grad and wg.checkpoint pass keyword arguments through
# ---------------------------------------------------------------------------------------------

def scaled(x, y=1.0, *, s=1.0, power=2):
    return s * np.sum(x ** power * y)


def test_grad_passes_keywords_through_undifferentiated():
    np.testing.assert_allclose(wg.grad(scaled)(X, s=2.0), 4 * X)
    np.testing.assert_allclose(wg.grad(scaled)(X, s=2.0, power=3), 6 * X ** 2)
    gx, gy = wg.grad(scaled, (0, 1))(X, 3.0, s=0.5)
    np.testing.assert_allclose(gx, 3.0 * X)
    np.testing.assert_allclose(gy, 0.5 * np.sum(X ** 2))


def test_grad_keyword_traced_by_an_outer_transformation():
    # s reaches f as a keyword: the inner gradient does not differentiate it, the outer one
    # does (d/ds Σ ∂f/∂x = Σ 2x).
    outer = wg.gradient(lambda s: np.sum(wg.grad(scaled)(X, s=s)), 2.0)[0]
    np.testing.assert_allclose(outer, np.sum(2 * X))


def test_checkpoint_passes_keywords_through():
    plain = wg.gradient(lambda x: scaled(x, s=2.0, power=3), X)[0]
    block = wg.checkpoint(scaled)
    np.testing.assert_allclose(wg.gradient(lambda x: block(x, s=2.0, power=3), X)[0], plain)
    np.testing.assert_allclose(plain, 6 * X ** 2)
    check_grads(lambda x: block(x, 2.0, s=2.0, power=3), X, modes=BOTH)


def test_checkpoint_differentiates_a_traced_keyword_like_a_closure():
    block = wg.checkpoint(scaled)
    gx, gs = wg.gradient(lambda x, s: block(x, s=s), X, 2.0)
    np.testing.assert_allclose(gx, 4 * X)
    np.testing.assert_allclose(gs, np.sum(X ** 2))
    _, tangent = wg.jvp(lambda x, s: block(x, s=s), (X, 2.0), (np.zeros(3), 1.0))
    np.testing.assert_allclose(tangent, np.sum(X ** 2))
    check_grads(lambda x, s: block(x, s=s), X, 2.0, modes=BOTH)


# ---------------------------------------------------------------------------------------------
# np.linalg.norm keeps a float32 derivative in float32 (ties' shares came out float64)
# ---------------------------------------------------------------------------------------------

MATRIX_ORDS = [2, -2, "nuc", 1, -1, np.inf, -np.inf, None, "fro"]


@pytest.mark.parametrize("dtype", [np.float32, np.complex64])
@pytest.mark.parametrize("ord", MATRIX_ORDS, ids=str)
def test_matrix_norm_derivatives_keep_single_precision(ord, dtype):
    m = rng.standard_normal((3, 4)).astype(dtype)
    f = lambda a: np.linalg.norm(a, ord)   # noqa: E731
    assert tangent_of(f, m).dtype == np.float32
    assert wg.gradient(f, m)[0].dtype == dtype


@pytest.mark.parametrize("ord", [np.inf, -np.inf], ids=str)
def test_vector_max_norm_derivatives_keep_single_precision(ord):
    v = rng.standard_normal(5).astype(np.float32)
    f = lambda x: np.linalg.norm(x, ord)   # noqa: E731
    assert tangent_of(f, v).dtype == np.float32
    assert wg.gradient(f, v)[0].dtype == np.float32


@pytest.mark.parametrize("ord", [2, -2, 1, np.inf], ids=str)
def test_matrix_norm_derivative_values(ord):
    m = rng.standard_normal((3, 4))
    check_grads(lambda a: np.linalg.norm(a, ord), m, modes=BOTH)
    # A float32 run agrees with the float64 one to float32 precision.
    f = lambda a: np.linalg.norm(a, ord)   # noqa: E731
    np.testing.assert_allclose(tangent_of(f, m.astype(np.float32)), tangent_of(f, m),
                               rtol=1e-5)
