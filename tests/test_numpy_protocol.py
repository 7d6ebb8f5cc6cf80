"""A tracer looks like a NumPy array: operators (reflected too), comparisons that drive
control flow, attributes, methods and ufunc methods, each checked against finite
differences."""
import operator

import numpy as np
import pytest

import wengert as wg
from wengert.core.levels import Tracer
from wengert.testing import check_grads

rng = np.random.default_rng(7)
X = rng.uniform(0.5, 1.5, 3)            # positive: powers and division stay smooth
Y = rng.uniform(0.5, 1.5, 3)
M = rng.standard_normal((2, 3))
S = rng.standard_normal((3, 3))
C = rng.standard_normal(3) + 1j * rng.standard_normal(3)


def check(f, *args):
    check_grads(f, *args, modes=("reverse",))


# ---------------------------------------------------------------------------------------------
# Binary operators: every operand kind on either side
# ---------------------------------------------------------------------------------------------

OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
             operator.mod]

# (id, builds the call from the operator and two arrays: f(op, x, y) -> (function, arguments))
OPERANDS = [
    ("tracer op tracer", lambda op, x, y: (lambda x, y: op(x, y), (x, y))),
    ("tracer op ndarray", lambda op, x, y: (lambda x: op(x, y), (x,))),
    ("ndarray op tracer", lambda op, x, y: (lambda y: op(x, y), (y,))),
    ("tracer op float", lambda op, x, y: (lambda x: op(x, 1.5), (x,))),
    ("float op tracer", lambda op, x, y: (lambda y: op(1.5, y), (y,))),
    ("tracer op int", lambda op, x, y: (lambda x: op(x, 2), (x,))),
    ("int op tracer", lambda op, x, y: (lambda y: op(2, y), (y,))),
    ("tracer op numpy scalar", lambda op, x, y: (lambda x: op(x, y[0]), (x,))),
    ("numpy scalar op tracer", lambda op, x, y: (lambda y: op(x[0], y), (y,))),
    ("scalar tracer op ndarray", lambda op, x, y: (lambda s: op(s, y), (x[1],))),
    ("ndarray op scalar tracer", lambda op, x, y: (lambda s: op(x, s), (y[1],))),
    ("broadcast (2,3) op (3,)",
     lambda op, x, y: (lambda a, y: op(a, y), (np.stack([x, x[::-1]]), y))),
    ("tracer op list", lambda op, x, y: (lambda x: op(x, [1.5, 2.0, 0.75]), (x,))),
]
DTYPES = [np.float64, np.float32, np.complex128]


def _operands(dtype):
    """X and Y in ``dtype``; complex ones keep a positive real part so powers stay smooth."""
    if dtype is np.complex128:
        return X + 0.3j * Y, Y - 0.2j * X
    return X.astype(dtype), Y.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: t.__name__)
@pytest.mark.parametrize("make", [m for _, m in OPERANDS], ids=[i for i, _ in OPERANDS])
@pytest.mark.parametrize("op", OPERATORS, ids=lambda op: op.__name__)
def test_binary_operator(op, make, dtype):
    if op is operator.mod and dtype is np.complex128:
        pytest.skip("NumPy has no remainder of complex numbers")
    f, args = make(op, *_operands(dtype))
    check(f, *args)


@pytest.mark.parametrize("make", [m for _, m in OPERANDS], ids=[i for i, _ in OPERANDS])
def test_floor_division_has_zero_gradient(make):
    f, args = make(operator.floordiv, X, Y)
    grads = wg.pullback(f, *args)[1](np.ones(np.shape(f(*args))))
    for g, a in zip(grads, args):
        np.testing.assert_array_equal(g, np.zeros_like(a))


@pytest.mark.parametrize("a_shape, b_shape", [((2, 3), (3,)), ((3,), (3, 2)), ((3,), (3,)),
                                              ((2, 3), (3, 4)), ((5, 2, 3), (3, 2))], ids=str)
def test_matmul_operator_both_sides(a_shape, b_shape):
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    check(lambda a, b: a @ b, a, b)
    check(lambda a: a @ b, a)      # tracer @ ndarray
    check(lambda b: a @ b, b)      # ndarray @ tracer: ndarray.__matmul__ defers to the tracer


@pytest.mark.parametrize("x, p", [(X, 2.0), (X, Y), (2.0, X), (np.float64(3.0), X), (X, 3)],
                         ids=["array**float", "array**array", "float**array",
                              "np.float64**array", "array**int"])
def test_power_with_scalar_and_array_exponents(x, p):
    check(lambda x, p: x ** p, x, p)


@pytest.mark.parametrize("op", [operator.neg, operator.pos, abs], ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", [X - 1.0, 0.7, C], ids=["array", "float", "complex"])
def test_unary_operators(op, x):
    check(op, x)


def test_augmented_assignment_rebinds_the_name():
    def f(x):
        y = x * 1.0
        y += X
        y *= x
        y -= 1.0
        y /= 2.0
        y **= 2
        return y

    check(f, Y)


# ---------------------------------------------------------------------------------------------
# Comparisons give plain booleans, so Python control flow works on traced values
# ---------------------------------------------------------------------------------------------

COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("cmp", COMPARISONS, ids=lambda c: c.__name__)
def test_comparisons_return_plain_booleans(cmp):
    seen = []

    def f(x, s):
        for result in (cmp(x, 1.0), cmp(1.0, x), cmp(x, Y), cmp(Y, x), cmp(x, x), cmp(s, 1.0)):
            assert not isinstance(result, Tracer)
            seen.append(result)
        return np.sum(x) * s

    wg.gradient(f, X, 1.0)
    expected = [cmp(X, 1.0), cmp(1.0, X), cmp(X, Y), cmp(Y, X), cmp(X, X), cmp(1.0, 1.0)]
    for got, want in zip(seen, expected):
        np.testing.assert_array_equal(got, want)
        assert np.result_type(got) == np.bool_


def test_if_on_a_traced_scalar():
    f = lambda x: x ** 2 if x > 0 else -x ** 3
    assert wg.gradient(f, 2.0) == (4.0,)
    assert wg.gradient(f, -2.0) == (-12.0,)


def test_while_on_a_traced_value():
    def f(x):
        while np.sum(x) < 10.0:
            x = x * 2
        return np.sum(x)

    (g,) = wg.gradient(f, np.array([1.0, 0.5]))   # sum 1.5 → doubles three times → 12
    np.testing.assert_allclose(g, [8.0, 8.0])


def test_where_with_a_traced_condition():
    f = lambda x: np.where(x > 1.0, x ** 2, -x)
    check(f, X)
    (g,) = wg.gradient(lambda x: np.sum(f(x)), X)
    np.testing.assert_allclose(g, np.where(X > 1.0, 2 * X, -1.0))


def test_for_loop_recursion_and_closures():
    scale = 3.0

    def power(x, n):                       # recursion
        return 1.0 if n == 0 else x * power(x, n - 1)

    def f(x):
        total = 0.0
        for k in range(1, 4):              # a Python loop with Python scalars
            total = total + power(x, k) / k
        add_scaled = lambda y: y * scale   # a closure over a constant
        return add_scaled(total)

    (g,) = wg.gradient(f, 0.5)
    assert g == pytest.approx(scale * (1 + 0.5 + 0.25))
    check(f, 0.5)


def test_closure_over_a_traced_value():
    def f(x):
        shift = lambda y: y + x * x       # captures the traced x
        return np.sum(shift(np.arange(3.0)) * x)

    (g,) = wg.gradient(f, 2.0)
    assert g == pytest.approx(np.sum(np.arange(3.0)) + 9 * 2.0 ** 2)


def test_round_is_a_plain_value():
    def f(x):
        steps = round(x)                      # Python's round: an int, no derivative
        assert type(steps) is int and steps == 3
        assert round(x, 1) == pytest.approx(2.7)
        return x * steps

    assert wg.gradient(f, 2.7) == (3.0,)


@pytest.mark.parametrize("ufunc", [np.multiply, np.add, np.power, np.arctan2],
                         ids=lambda u: u.__name__)
def test_ufunc_called_with_a_list_operand(ufunc):
    check(lambda x: ufunc(x, [1.5, 2.0, 0.75]), X)
    check(lambda x: ufunc((1.5, 2.0, 0.75), x), X)


def test_python_scalars_mix_with_arrays():
    check(lambda x, s: np.sum((x * s + 1) / (2 + s) - s ** 2 * x), X, 0.7)


# ---------------------------------------------------------------------------------------------
# len, iteration, indexing, attributes
# ---------------------------------------------------------------------------------------------

def test_len_and_iteration_over_rows():
    def f(m):
        assert len(m) == 2
        total = 0.0
        for i, row in enumerate(m):
            total = total + (i + 1) * np.sum(row * row)
        return total

    (g,) = wg.gradient(f, M)
    np.testing.assert_allclose(g, 2 * M * np.array([[1.0], [2.0]]))


@pytest.mark.parametrize("index", [0, -1, (1, 2), slice(1, 3), (slice(None), 0), [0, 0, 1],
                                   (np.array([1, 0]), np.array([2, 2])), Ellipsis,
                                   (None, 0), np.array([True, False])],
                         ids=repr)
def test_indexing(index):
    check(lambda m: m[index] * 2.0, M)


def test_attributes_are_plain_values():
    def f(x):
        assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6
        assert x.dtype == np.float32
        assert not isinstance(x.shape, Tracer)
        return np.sum(x)

    wg.gradient(f, M.astype(np.float32))


def test_attributes_of_traced_scalar():
    def f(s):
        assert s.shape == () and s.ndim == 0 and s.size == 1 and s.dtype == np.float64
        return s * 2

    assert wg.gradient(f, 1.5) == (2.0,)


ATTRIBUTES = [
    ("T", lambda m: m.T @ np.arange(2.0), M),
    ("mT", lambda m: m.mT * 2, rng.standard_normal((4, 2, 3))),
    ("real", lambda z: z.real * 3, C),
    ("imag", lambda z: z.imag * 3, C),
    ("real of real", lambda x: x.real * 3, X),
    ("imag of real", lambda x: x.imag + x, X),
]


@pytest.mark.parametrize("f, arg", [a[1:] for a in ATTRIBUTES], ids=[a[0] for a in ATTRIBUTES])
def test_differentiable_attributes(f, arg):
    check(f, arg)


# ---------------------------------------------------------------------------------------------
# Methods: each is the NumPy function of the same name
# ---------------------------------------------------------------------------------------------

METHODS = [
    ("reshape tuple", lambda m: m.reshape((3, 2)), M),
    ("reshape varargs", lambda m: m.reshape(3, 2), M),
    ("reshape -1", lambda m: m.reshape(-1), M),
    ("sum", lambda m: m.sum(), M),
    ("sum axis keepdims", lambda m: m.sum(axis=0, keepdims=True), M),
    ("mean", lambda m: m.mean(axis=1), M),
    ("max", lambda m: m.max(axis=0), M),
    ("min", lambda m: m.min(), M),
    ("prod", lambda x: x.prod(), X),
    ("dot", lambda m: m.dot(X), M),
    ("transpose", lambda m: m.transpose(), M),
    ("transpose axes", lambda t: t.transpose(2, 0, 1), rng.standard_normal((2, 3, 4))),
    ("transpose tuple", lambda t: t.transpose((1, 0, 2)), rng.standard_normal((2, 3, 4))),
    ("astype float64", lambda x: x.astype(np.float64) * x, X.astype(np.float32)),
    ("astype complex", lambda x: np.abs(x.astype(np.complex128) * (1 + 1j)), X),
    ("copy", lambda x: x.copy() * x, X),
    ("flatten", lambda m: m.flatten() * np.arange(6.0), M),
    ("ravel", lambda m: m.ravel() * np.arange(6.0), M),
    ("squeeze", lambda t: t.squeeze(), rng.standard_normal((1, 3, 1))),
    ("clip", lambda x: x.clip(0.8, 1.2), X),
    ("trace", lambda s: s.trace(), S),
    ("diagonal", lambda s: s.diagonal(), S),
    ("cumsum", lambda m: m.cumsum(axis=1), M),
    ("std", lambda m: m.std(), M),
    ("var", lambda m: m.var(axis=0), M),
    ("conj", lambda z: z.conj() * z, C),
    ("swapaxes", lambda t: t.swapaxes(0, 2), rng.standard_normal((2, 3, 4))),
    ("repeat", lambda x: x.repeat(2), X),
    ("take", lambda x: x.take([0, 2, 2]), X),
]


@pytest.mark.parametrize("f, arg", [m[1:] for m in METHODS], ids=[m[0] for m in METHODS])
def test_method(f, arg):
    check(f, arg)


def test_astype_gradient_is_cast_back():
    (g,) = wg.gradient(lambda x: np.sum(x.astype(np.float32) * Y), X)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, Y.astype(np.float32))
    (g,) = wg.gradient(lambda x: np.sum(x.astype(np.float64) ** 2), X.astype(np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * X.astype(np.float32), rtol=1e-6)


def test_astype_of_a_traced_scalar_keeps_it_a_scalar():
    def f(x):
        total = np.sum(x).astype(np.float32)
        assert total.shape == () and total.dtype == np.float32
        return total * 2

    (g,) = wg.gradient(f, X)
    np.testing.assert_allclose(g, 2 * np.ones(3))


@pytest.mark.parametrize("dtype", [int, np.int32, bool])
def test_astype_to_integers_has_no_gradient(dtype):
    (g,) = wg.gradient(lambda x: np.sum(x.astype(dtype) * x), X * 3)
    np.testing.assert_allclose(g, (X * 3).astype(dtype))


# ---------------------------------------------------------------------------------------------
# ufunc methods
# ---------------------------------------------------------------------------------------------

UFUNC_METHODS = [
    ("add.reduce", lambda m: np.add.reduce(m), M),
    ("add.reduce axis", lambda m: np.add.reduce(m, axis=1), M),
    ("add.accumulate", lambda x: np.add.accumulate(x), X),
    ("multiply.outer", lambda x, y: np.multiply.outer(x, y), X, Y),
    ("multiply.outer with ndarray", lambda x: np.multiply.outer(M, x), X),
    ("add.outer", lambda x, y: np.add.outer(x, y), X, Y[:2]),
]


@pytest.mark.parametrize("f, args", [(m[1], m[2:]) for m in UFUNC_METHODS],
                         ids=[m[0] for m in UFUNC_METHODS])
def test_ufunc_method(f, args):
    check(f, *args)


def test_ufunc_method_without_rule_is_an_error():
    with pytest.raises(wg.DifferentiationError, match="reduceat"):
        wg.gradient(lambda x: np.sum(np.add.reduceat(x, [0, 2])), X)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_printing_and_formatting_a_traced_value_shows_its_value(mode):
    seen = []

    def f(x):
        seen.append((f"{x:.3f}", str(x), f"{x}", format(x, ">6.1f"), repr(x)))
        return x * 2

    (wg.gradient if mode == "reverse" else wg.derivative)(f, 1.5)
    formatted, as_str, plain, padded, as_repr = seen[0]
    assert (formatted, as_str, plain, padded) == ("1.500", "1.5", "1.5", "   1.5")
    assert as_repr.endswith("Tracer(1.5)")


def test_formatting_a_traced_array_formats_like_the_array():
    def f(x):
        assert f"{x[1]:.2f}" == "2.00" and str(x) == str(np.array([1.0, 2.0]))
        with pytest.raises(TypeError):   # as NumPy: a 1-d array takes no number format
            f"{x:.2f}"
        return np.sum(x)

    wg.gradient(f, np.array([1.0, 2.0]))
