"""wg.compile's passes never let the caller see a difference: every result is an array of
its own on every call (shared with no input, constant or other result), and a line taken
for another (``x * 1``, a repeated call) is never one that a later line writes into."""
import numpy as np
import pytest

import wengert as wg

X = np.array([0.3, -1.2, 0.7])


def _calls(fn, *argument_sets):
    """``fn`` and its compiled form called on each set of arguments (fresh copies for each),
    results compared; the compiled results are written into after each call, as a caller
    may."""
    cf = wg.compile(fn)
    for args in argument_sets:
        expected = fn(*[np.copy(a) for a in args])
        got = cf(*[np.copy(a) for a in args])
        for e, g in zip(expected if isinstance(expected, tuple) else (expected,),
                        got if isinstance(got, tuple) else (got,)):
            np.testing.assert_array_equal(g, e)
            if isinstance(g, np.ndarray) and g.flags.writeable:
                g[...] = 12345.0


@pytest.mark.parametrize("derivative", [
    wg.grad(lambda x: np.sum(np.cumsum(x))),
    wg.grad(lambda x: np.sum(np.tile(x, 2))),
    lambda x: wg.jacobian(lambda x: np.sum(x.real), x, mode="forward")[0],
])
def test_a_result_made_from_constants_is_new_on_every_call(derivative):
    # each is a reshape (a view) of an array the program computes once
    x = np.ones((2, 3))
    _calls(derivative, (x,), (2 * x,), (3 * x,), (x,))


def test_a_line_taken_for_its_argument_is_not_one_written_into_later():
    def times_one(x):
        a = np.exp(x)
        b = a * 1
        a[0] = 5.0
        return b

    def plus_zero(x):
        a = np.exp(x)
        b = a + 0
        a += 1.0
        return b

    def where_everywhere(x):
        a = np.exp(x)
        b = np.where(np.ones(3, dtype=bool), a, 0.0)
        a[0] = 3.0
        return b

    for f in (times_one, plus_zero, where_everywhere):
        _calls(f, (X,), (2 * X,), (-X,))


def test_a_result_is_never_a_view_of_an_argument_the_function_did_not_return():
    cf = wg.compile(lambda x: (x * 1)[:2])
    x = np.ones(3)
    cf(x)
    cf(x)[0] = 7.0
    np.testing.assert_array_equal(x, np.ones(3))


@pytest.mark.parametrize("f", [
    lambda x: (np.exp(x), np.exp(x) * 1.0),
    lambda x: (np.sin(x), np.sin(x)[:2]),
])
def test_two_results_never_share_memory(f):
    cf = wg.compile(f)
    cf(X)
    first, second = cf(X)
    assert not np.may_share_memory(first, second)


def test_no_buffer_is_reused_while_the_pullback_of_a_rule_called_whole_keeps_it():
    # np.linalg.solve runs its rule whole; on a stack of matrices its pullback solves with
    # the matrix it kept, which np.tanh, its last reader in the program, must not overwrite
    b = np.arange(8.0).reshape(2, 4, 1)

    def f(x):
        a = np.exp(x) + 4 * np.eye(4)
        return np.sum(np.linalg.solve(a, b)) + np.sum(np.tanh(a))

    rng = np.random.default_rng(0)
    _calls(wg.grad(f), *[(rng.normal(size=(2, 4, 4)),) for _ in range(3)])


REAL = np.array([-0.0, 1.0])
COMPLEX = np.array([complex(-0.0, -1.0), complex(1.0, np.inf)])


@pytest.mark.parametrize("f, x", [
    (lambda x: 1 / (x + 0), REAL),
    (lambda x: 1 / (np.zeros(2) + x), REAL),
    (lambda x: 1 / (x - np.full(2, -0.0)), REAL),
    (lambda x: 1 / np.real(x * 1.0), COMPLEX),
])
def test_a_line_taken_for_its_argument_keeps_the_signs_of_zeros(f, x):
    # -0.0 + 0 is 0.0: only adding -0.0 (subtracting 0.0) leaves a float as it is; a
    # complex times 1 mixes its parts (-0.0 - (-1.0 · 0.0) is 0.0; ∞ · 0 is NaN)
    with np.errstate(divide="ignore", invalid="ignore"):
        _calls(f, (x,), (-x,), (x,))


def test_calls_on_zeros_of_other_signs_are_not_merged():
    with np.errstate(divide="ignore", invalid="ignore"):
        _calls(lambda x: (1 / (x * 0.0), 1 / (x * -0.0)), (X,), (2 * X,))
        _calls(lambda x: (1 / (x * 0j), 1 / (x * complex(0.0, -0.0))), (X,), (2 * X,))


def test_a_constant_refilled_with_zeros_of_the_other_sign_is_a_new_constant():
    def f(x):
        table = np.zeros(2)
        before = x * table
        table[0] = -0.0   # equal to what it was, but 1 / it is -inf
        return 1 / before, 1 / (x * table)

    with np.errstate(divide="ignore"):
        _calls(f, (np.array([1.0, 2.0]),), (np.array([3.0, -1.0]),))


@pytest.mark.parametrize("write", [
    lambda v: v.__iadd__(v), lambda v: v.__iadd__(1.0), lambda v: v.__imul__(2.0),
])
@pytest.mark.parametrize("index", [slice(None, None, -1), slice(1, None), slice(None)])
def test_a_write_through_a_view_of_a_traced_array_reaches_its_derivative(write, index):
    # under wg.compile a traced value's own value is a staged one: a view of it is still
    # a view, and a write into it in place still a write (not the rebinding of a scalar)
    def f(x):
        y = x * 1.0
        view = y[index]
        write(view)
        return np.sum(y ** 2)

    _calls(wg.grad(f), (np.linspace(-1.0, 1.0, 4),), (np.linspace(0.5, 2.0, 4),))
    _calls(lambda x: wg.jvp(f, (x,), (np.ones(4),)), (np.linspace(-1.0, 1.0, 4),))


def test_a_view_of_a_line_taken_for_another_keeps_that_buffer_from_reuse():
    # y is taken for s; the view y[3:] is of s then, and read after the last line that
    # reads s itself, which must not write its product into s
    def f(x):
        s = np.sin(x)
        y = s * 1
        product = np.sum(y) * s
        return y[3:] + 1, product

    _calls(f, (np.linspace(-1.0, 1.0, 6),), (np.linspace(0.0, 2.0, 6),))


def test_a_repeated_call_stands_for_what_the_first_one_became():
    # the first x * 1.0 is taken for x; the second is the same call, and x too (it once
    # named the first line, which the program no longer has)
    _calls(lambda x: np.sin((x * 1.0) * 1.0), (X,), (2 * X,))

    def f(x):
        y = x * 1.0
        return np.sum((y * float(x[0] > 0)) ** 2)

    _calls(wg.grad(f), (X,), (-X,), (X,), (-X,))


def test_a_view_of_an_array_written_later_is_not_taken_for_a_copy_of_it():
    def f(x):
        c = np.cos(x)
        copy = c.reshape(2, 3) * 1   # a new array: the write below does not reach it
        c += 1.0
        return np.sin(copy)

    _calls(f, (np.linspace(-1.0, 1.0, 6),), (np.linspace(0.0, 2.0, 6),))


def test_no_line_moves_above_a_write_its_arguments_take():
    # np.maximum(y, c) moves above np.sin(c) so that the sine may write into c; it may not
    # move on above y += y, nor take np.sin(c) with it
    def f(x):
        y = x * 1.0
        c = np.cos(x)
        y += y
        s = np.sin(c)
        top = np.maximum(y, c)
        chosen = np.where(y > 0, y, s)
        copy = c * 1
        copy[np.cumsum(s) > 0] = 0.0
        return chosen, copy, top

    _calls(f, (np.linspace(-0.5, 1.5, 6),), (np.linspace(-1.0, 1.0, 6),))


def test_a_float32_gradient_through_float64_constants_is_the_uncompiled_one():
    # each cotangent is cast to its argument's dtype where the walk casts it, also where the
    # argument is traced by wg.compile: the same float32 roundings, not one at the end
    weights = np.linspace(0.5, 1.5, 6)

    def f(x):
        return np.sum(np.sin(x) * weights) + np.sum(np.cos(x) * weights) + np.sum(np.exp(x))

    rng = np.random.default_rng(1)
    _calls(wg.grad(f), *[(rng.normal(size=6).astype(np.float32),) for _ in range(5)])
