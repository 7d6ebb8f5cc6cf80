"""Rules of joining and splitting (rules/joins.py) in both modes, checked against finite
differences.

One spec table (JOINS: function of the arguments, argument shapes) drives the checks in
float32, float64 and complex128, to second order in every nesting. The tests below it pin
list arguments (constants in the list get no tangent and no cotangent; a list argument gets
a list gradient) and several outputs (unused parts of a split; one tangent per part)."""
import numpy as np
import pytest

import wengert as wg
from spec_helpers import random_args, sin_of_each
from wengert.testing import check_grads

DTYPES = (np.float32, np.float64, np.complex128)

# id: (function of the arguments, shapes of the arguments)
JOINS = {
    # joining
    "concatenate": (lambda a, b: np.concatenate([a, b]), [(2, 3), (4, 3)]),
    "concatenate_axis": (lambda a, b, c: np.concatenate((a, b, c), axis=-1),
                         [(2, 1), (2, 3), (2, 2)]),
    "concatenate_None": (lambda a, b: np.concatenate([a, b], axis=None), [(2, 3), (4,)]),
    "stack": (lambda a, b: np.stack([a, b]), [(2, 3), (2, 3)]),
    "stack_axis": (lambda a, b: np.stack([a, b], axis=-1), [(2, 3), (2, 3)]),
    "hstack_1d": (lambda a, b: np.hstack([a, b]), [(2,), (3,)]),
    "hstack_2d": (lambda a, b: np.hstack([a, b]), [(2, 1), (2, 3)]),
    "vstack": (lambda a, b: np.vstack([a, b]), [(3,), (2, 3)]),
    "dstack": (lambda a, b: np.dstack([a, b]), [(3,), (1, 3)]),
    "column_stack": (lambda a, b: np.column_stack([a, b]), [(3,), (3, 2)]),
    "append": (lambda a, b: np.append(a, b), [(2, 2), (3,)]),
    "append_axis": (lambda a, b: np.append(a, b, axis=1), [(2, 2), (2, 1)]),
    # splitting (several outputs)
    "split": (lambda x: np.split(x, 3), [(6, 2)]),
    "split_indices": (lambda x: np.split(x, [1, 3], axis=1), [(2, 5)]),
    "array_split": (lambda x: np.array_split(x, 3, axis=-1), [(2, 7)]),
    "hsplit": (lambda x: np.hsplit(x, 2), [(3, 4)]),
    "vsplit": (lambda x: np.vsplit(x, [1]), [(3, 4)]),
    "dsplit": (lambda x: np.dsplit(x, 2), [(2, 1, 4)]),
}
if hasattr(np, "unstack"):   # NumPy 2.1
    JOINS["unstack"] = (lambda x: np.unstack(x, axis=1), [(2, 3)])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(JOINS))
def test_join_derivatives(name, dtype, rng):
    fn, shapes = JOINS[name]
    check_grads(fn, *random_args(shapes, dtype, rng))


@pytest.mark.parametrize("name", list(JOINS))
def test_join_rules_nest(name, rng):
    fn, shapes = JOINS[name]
    args = random_args(shapes, np.float64, rng)
    f = lambda *a: sin_of_each(fn(*a))
    check_grads(f, *args, order=2)
    # Forward over forward and reverse over forward: the forward rule on traced values.
    us = random_args(shapes, np.float64, rng)
    check_grads(lambda *a: wg.jvp(f, a, us)[1], *args)


# --- list arguments ------------------------------------------------------------------------------


def test_concatenate_mix_of_traced_and_constant(rng):
    c1, c2 = rng.standard_normal((2, 3)), rng.standard_normal((1, 3))
    x = rng.standard_normal((4, 3))
    check_grads(lambda x: np.concatenate([c1, x, c2]), x)
    (g,) = wg.gradient(lambda x: np.sum(np.concatenate([c1, x, c2]) * np.arange(7.0)[:, None]), x)
    np.testing.assert_array_equal(g, np.broadcast_to(np.arange(2.0, 6.0)[:, None], (4, 3)))


def test_concatenate_of_a_list_argument_gives_a_list_gradient(rng):
    a, b = rng.standard_normal(3), rng.standard_normal(2)
    (g,) = wg.gradient(lambda xs: np.sum(np.concatenate(xs) ** 2), [a, b])
    assert isinstance(g, list) and len(g) == 2
    np.testing.assert_allclose(g[0], 2 * a)
    np.testing.assert_allclose(g[1], 2 * b)


def test_concatenate_mixed_dtypes_keep_each_dtype(rng):
    a = rng.standard_normal(3).astype(np.float32)
    b = rng.standard_normal(2)
    ga, gb = wg.gradient(lambda a, b: np.sum(np.concatenate([a, b])), a, b)
    assert ga.dtype == np.float32 and gb.dtype == np.float64
    np.testing.assert_array_equal(ga, np.ones(3))


def test_stack_with_a_constant_and_the_same_tracer_twice(rng):
    x = rng.standard_normal(3)
    (g,) = wg.gradient(lambda x: np.sum(np.stack([x, np.ones(3), x]) ** 2), x)
    np.testing.assert_allclose(g, 4 * x)


def test_hstack_of_a_tuple_with_a_python_scalar(rng):
    x = rng.standard_normal(2)
    check_grads(lambda x: np.hstack((x, 1.5, x)), x)


# --- split: the pullback receives Zero for the parts that were not used ---------------------------


def test_split_feeding_a_sum_of_some_parts(rng):
    x = rng.standard_normal(6)
    (g,) = wg.gradient(lambda x: np.sum(np.split(x, 3)[1] ** 2), x)
    np.testing.assert_allclose(g, [0, 0, 2 * x[2], 2 * x[3], 0, 0])
    check_grads(lambda x: np.sum(np.split(x, 3)[2]) * np.split(x, 3)[0], x)


def test_array_split_unused_parts_second_order(rng):
    x = rng.standard_normal((2, 7))
    check_grads(lambda x: np.sin(np.array_split(x, 3, axis=1)[1]), x, order=2)


def test_concatenate_tangent_has_zeros_where_the_constants_are(rng):
    c = rng.standard_normal((2, 3))
    x, u = rng.standard_normal((1, 3)), rng.standard_normal((1, 3))
    _, dy = wg.jvp(lambda x: np.concatenate([c, x, c.astype(np.float32)]), (x,), (u,))
    np.testing.assert_array_equal(dy, np.concatenate([np.zeros((2, 3)), u, np.zeros((2, 3))]))
    _, dy = wg.jvp(lambda x: np.hstack((x[0], 1.5, x[0])), (x,), (u,))
    np.testing.assert_array_equal(dy, np.concatenate([u[0], [0.0], u[0]]))


def test_concatenate_of_a_traced_list_and_of_an_array_of_rows(rng):
    a, b = rng.standard_normal(3), rng.standard_normal(2)
    da, db = rng.standard_normal(3), rng.standard_normal(2)
    _, dy = wg.jvp(np.concatenate, ([a, b],), ([da, db],))
    np.testing.assert_array_equal(dy, np.concatenate([da, db]))
    x = rng.standard_normal((3, 2))   # an array is read as the sequence of its rows
    check_grads(lambda x: np.concatenate(x) * np.stack(x, axis=1).ravel(), x)


def test_append_with_a_constant_first_argument(rng):
    x, u = rng.standard_normal(2), rng.standard_normal(2)
    _, dy = wg.jvp(lambda x: np.append(np.ones(3), x), (x,), (u,))
    np.testing.assert_array_equal(dy, np.concatenate([np.zeros(3), u]))


def test_split_gives_one_tangent_per_part(rng):
    x, u = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    parts, tangents = wg.jvp(lambda x: np.split(x, [1, 3]), (x,), (u,))
    assert isinstance(tangents, list) and len(tangents) == len(parts) == 3
    for got, expected in zip(tangents, np.split(u, [1, 3])):
        np.testing.assert_array_equal(got, expected)
    if hasattr(np, "unstack"):
        _, tangents = wg.jvp(lambda x: np.unstack(x, axis=1), (x,), (u,))
        assert isinstance(tangents, tuple) and len(tangents) == 3
        np.testing.assert_array_equal(tangents[2], u[:, 2])
