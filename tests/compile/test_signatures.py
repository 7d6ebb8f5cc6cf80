"""What a wg.compile program is specialized to traces again where it changes — the type and
exact value of a Python number, the strides of an array, the sign of a zero a decision
read."""
import numpy as np
import pytest

import wengert as wg


@pytest.mark.parametrize("static_argnums", [(), (1,)])
def test_numbers_of_other_types_or_signs_trace_apart(static_argnums):
    scale = wg.compile(lambda x, n: x * n, static_argnums=static_argnums)
    assert scale(np.arange(3), 2).dtype == np.arange(3).dtype
    assert scale(np.arange(3), 2.0).dtype == np.float64
    assert scale(np.arange(2), (2.0, 1)).dtype == np.float64
    assert scale(np.arange(2), (2, 1)).dtype == np.arange(3).dtype
    divide = wg.compile(lambda x, n: x / n, static_argnums=static_argnums)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(divide(np.ones(2), 0.0), [np.inf, np.inf])
        np.testing.assert_array_equal(divide(np.ones(2), -0.0), [-np.inf, -np.inf])
    angle = wg.compile(lambda x, n: np.arctan2(n, x), static_argnums=static_argnums)
    assert angle(-np.ones(1), 0.0)[0] == np.pi
    assert angle(-np.ones(1), -0.0)[0] == -np.pi


def test_a_nan_argument_keeps_its_program():
    cf = wg.compile(lambda x, n: x * n)
    cf(np.ones(2), float("nan"))
    cf(np.ones(2), float("nan"))
    assert cf._traces == 1


@pytest.mark.parametrize("first, second", [("F", "C"), ("C", "F")])
def test_a_view_in_one_layout_and_a_copy_in_another_trace_apart(first, second):
    # np.ravel copies a Fortran-ordered array, which the program may then write into; of a
    # C-ordered one it is a view, and the argument must not be written into
    def f(x):
        return np.cos(np.sin(np.ravel(x)))

    def write_through(x):
        y = np.ravel(x)
        y[0] = 5.0
        return x * 2

    x = np.arange(6.0).reshape(2, 3)
    for fn in (f, write_through):
        cf = wg.compile(fn)
        cf(np.asarray(x, order=first))
        argument, expected_argument = np.asarray(x, order=second), np.asarray(x, order=second)
        np.testing.assert_array_equal(cf(argument), fn(expected_argument))
        np.testing.assert_array_equal(argument, expected_argument)


@pytest.mark.parametrize("read", [float, lambda v: v.item(), lambda v: complex(v).real])
def test_a_decision_on_a_zero_keeps_its_sign(read):
    def f(x):
        return x * np.copysign(1.0, read(x[0]))

    cf = wg.compile(f)
    for first in (0.0, -0.0, 0.0):
        x = np.array([first, 1.0])
        np.testing.assert_array_equal(cf(x), f(x))
        assert np.signbit(cf(x)[1]) == np.signbit(first)


def test_a_complex_decision_on_a_zero_keeps_the_signs_of_its_parts():
    def f(x):
        return x * np.copysign(1.0, complex(x[0]).imag)

    cf = wg.compile(f)
    for first in (0j, complex(0.0, -0.0), 0j):
        x = np.array([first, 1.0])
        np.testing.assert_array_equal(cf(x), f(x))


@pytest.mark.parametrize("read", [lambda x: x.item(4), lambda x: x.item(1, 0),
                                  lambda x: x.item((1, 2)), lambda x: x.item(-1)])
def test_an_item_by_position_is_a_guard_as_item_is(read):
    cf = wg.compile(lambda x: x * read(x))
    for k in (1.0, 2.0, 1.0):
        x = k * np.arange(6.0).reshape(2, 3)
        np.testing.assert_array_equal(cf(x), x * read(x))


@pytest.mark.parametrize("first_shared", [False, True])
def test_arguments_that_share_memory_trace_apart_and_are_one_buffer(first_shared):
    def f(x, y):
        copy = y * 1   # a new array, before the write into x
        x[1] = 7.0
        return np.sin(copy), np.cumsum(y)

    cf = wg.compile(f)
    for shared in (first_shared, not first_shared, first_shared):
        x, x_expected = np.arange(4.0), np.arange(4.0)
        y, y_expected = (x, x_expected) if shared else (np.ones(4), np.ones(4))
        for got, expected in zip(cf(x, y), f(x_expected, y_expected)):
            np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(x, x_expected)
    base, base_expected = np.arange(8.0), np.arange(8.0)   # views of one array: as shared
    for got, expected in zip(cf(base[:4], base[4:]), f(base_expected[:4], base_expected[4:])):
        np.testing.assert_array_equal(got, expected)
    assert cf._traces == 2
