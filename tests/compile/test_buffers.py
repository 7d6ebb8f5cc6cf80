"""Arrays a compiled function makes itself and writes traced values into: updated in place
(``acc += x``) they are buffers of the program, fresh in every run; written otherwise
(``out=``, ``np.copyto``) a NumPy call on them alone would not be seen, so it is refused."""
import numpy as np
import pytest

import wengert as wg

X = np.arange(6.0).reshape(2, 3)


def test_an_array_updated_in_place_with_traced_values_is_a_buffer_of_the_program():
    def f(x):
        total = np.zeros(3)
        for row in x:
            total += row
        return total.sum(), total * 2   # NumPy calls on the buffer alone

    cf = wg.compile(f)
    for x in (X, X + 1, -X):
        for got, expected in zip(cf(x), f(x)):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("write", [
    lambda x, buf: np.sin(x, out=buf),
    lambda x, buf: np.cumsum(x, out=buf),
    lambda x, buf: np.copyto(buf, x),
    lambda x, buf: np.divmod(x, 1.5, out=(buf, np.empty(3))),
])
def test_traced_values_written_into_it_otherwise_are_refused(write):
    def f(x):
        buf = np.zeros(3)
        write(x[0], buf)
        return buf.sum()

    with pytest.raises(wg.DifferentiationError, match="array the function made itself"):
        wg.compile(f)(X)


def test_made_like_a_traced_array_it_may_be_written_into_as_any_staged_value():
    def f(x):
        buf = np.zeros(3, like=x)
        np.sin(x[0], out=buf)
        return buf.sum()

    cf = wg.compile(f)
    for x in (X, X + 1):
        assert cf(x) == f(x)
