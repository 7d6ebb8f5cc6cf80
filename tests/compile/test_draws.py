"""wg.compile and random generators: the program draws the stream the uncompiled function
draws, also where a call takes another path than the one traced first; a shuffle is a
write into what it shuffles; a generator made of a reached one's bit generator is refused."""
import numpy as np
import pytest

import wengert as wg


@pytest.mark.parametrize("make_rng", [np.random.default_rng, np.random.RandomState])
def test_a_path_whose_decision_fails_after_a_draw_sets_the_generator_back(make_rng):
    def f(x, rng):
        noise = rng.normal()
        if x[0] > 0:
            return x * noise
        return -x * noise

    rng, reference = make_rng(0), make_rng(0)
    cf = wg.compile(f)
    for sign in (1, -1, 1, -1, -1, 1):
        x = sign * np.ones(2)
        np.testing.assert_array_equal(cf(x, rng), f(x, reference))


def test_a_shuffle_is_a_write_into_what_it_shuffles():
    def f(x, rng):
        y = np.exp(x)
        before = y * 1   # never taken for y, which the shuffle changes
        rng.shuffle(y)
        return before * 2, y

    rng, reference = np.random.default_rng(0), np.random.default_rng(0)
    cf = wg.compile(f)
    for _ in range(3):
        for got, expected in zip(cf(np.arange(4.0), rng), f(np.arange(4.0), reference)):
            np.testing.assert_array_equal(got, expected)


def test_shuffling_an_argument_before_a_decision_raises():
    def f(x, rng):
        rng.shuffle(x)
        return x * 2 if x[0] > 1 else x * 3

    with pytest.raises(wg.DifferentiationError, match="writes into an argument"):
        wg.compile(f)(np.arange(4.0), np.random.default_rng(0))


def test_a_generator_made_of_a_reached_ones_bit_generator_is_refused():
    # it would draw in the trace only: every call would repeat the trace's numbers
    def f(x, rng):
        return x * np.random.Generator(rng.bit_generator).normal(size=3)

    with pytest.raises(wg.DifferentiationError, match="bit_generator.*rng.normal"):
        wg.compile(f)(np.ones(3), np.random.default_rng(0))



def test_showing_the_source_draws_nothing_and_writes_into_nothing():
    def f(x, rng):
        x[0] = 7.0
        return x * rng.normal(size=3)

    rng, reference = np.random.default_rng(1), np.random.default_rng(1)
    cf = wg.compile(f)
    x, x_expected = np.ones(3), np.ones(3)
    cf(x, rng)
    f(x_expected, reference)
    shown = np.arange(3.0)
    cf.source(shown, rng)
    np.testing.assert_array_equal(shown, np.arange(3.0))
    np.testing.assert_array_equal(cf(x, rng), f(x_expected, reference))
