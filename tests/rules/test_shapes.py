"""Rules of the shape functions (rules/shapes.py, rules/placement.py) in both modes, checked
against finite differences.

One spec table (SHAPE_OPS: function of the arguments, argument shapes) drives the checks in
float32, float64 and complex128, and second-order checks with a nonlinear function after
the shape function: its transpose receives a traced cotangent (forward and reverse over
reverse) and its forward rule runs on traced values (forward and reverse over forward). The
tests below pin several outputs (atleast, broadcast_arrays), astype, that a one-element
sparse tangent (a OneHot) moves to its new position without a dense array, and a few values.
Joining and splitting are tested in test_joins.py."""
import warnings

import numpy as np
import pytest

import wengert as wg
from spec_helpers import random_args, sin_of_each
from wengert.arraytypes import astype as _astype
from wengert.registry import forward_rules
from wengert.tangents import Indexed, OneHot
from wengert.testing import check_grads

DTYPES = (np.float32, np.float64, np.complex128)

# id: (function of the arguments, shapes of the arguments)
SHAPE_OPS = {
    # same elements, new shape
    "reshape": (lambda x: np.reshape(x, (4, 3)), [(3, 4)]),
    "reshape_-1": (lambda x: np.reshape(x, (2, -1)), [(2, 3, 2)]),
    "reshape_F": (lambda x: np.reshape(x, (2, 6), order="F"), [(3, 4)]),
    "reshape_method": (lambda x: x.reshape(6, 2), [(3, 4)]),
    "ravel": (np.ravel, [(2, 3, 2)]),
    "ravel_F": (lambda x: np.ravel(x, order="F"), [(3, 4)]),
    "flatten_method": (lambda x: x.flatten(), [(3, 4)]),
    "squeeze": (np.squeeze, [(1, 3, 1, 4)]),
    "squeeze_axis": (lambda x: np.squeeze(x, axis=-2), [(1, 3, 1, 4)]),
    "expand_dims": (lambda x: np.expand_dims(x, (0, -1)), [(3, 4)]),
    "copy": (np.copy, [(3, 4)]),
    "copy_method": (lambda x: x.copy(), [(3, 4)]),
    "atleast_1d": (np.atleast_1d, [()]),
    "atleast_2d": (np.atleast_2d, [(4,)]),
    "atleast_3d_1d": (np.atleast_3d, [(4,)]),
    "atleast_3d_2d": (np.atleast_3d, [(2, 3)]),
    "atleast_2d_many": (lambda a, b: np.atleast_2d(a, b), [(3,), (2, 2)]),
    # permuted axes
    "transpose": (np.transpose, [(2, 3, 4)]),
    "transpose_axes": (lambda x: np.transpose(x, (1, 2, 0)), [(2, 3, 4)]),
    "transpose_negative": (lambda x: np.transpose(x, (-1, 0, 1)), [(2, 3, 4)]),
    "T": (lambda x: x.T, [(3, 4)]),
    "moveaxis": (lambda x: np.moveaxis(x, 0, -1), [(2, 3, 4)]),
    "moveaxis_many": (lambda x: np.moveaxis(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    "swapaxes": (lambda x: np.swapaxes(x, 0, 2), [(2, 3, 4)]),
    "rollaxis": (lambda x: np.rollaxis(x, 2, 0), [(2, 3, 4)]),
    "rollaxis_start": (lambda x: np.rollaxis(x, 0, 3), [(2, 3, 4)]),
    "matrix_transpose": (lambda x: np.matrix_transpose(x), [(2, 3, 4)]),
    # broadcasting
    "broadcast_to": (lambda x: np.broadcast_to(x, (2, 3)), [(3,)]),
    "broadcast_to_keep": (lambda x: np.broadcast_to(x, (2, 4, 3)), [(4, 1)]),
    "broadcast_arrays": (lambda a, b: np.broadcast_arrays(a, b), [(3, 1), (4,)]),
    # copies of elements
    "tile": (lambda x: np.tile(x, 3), [(2, 3)]),
    "tile_tuple": (lambda x: np.tile(x, (2, 1, 3)), [(2, 3)]),
    "tile_short": (lambda x: np.tile(x, (2,)), [(2, 2, 3)]),
    "repeat": (lambda x: np.repeat(x, 2), [(2, 3)]),
    "repeat_axis": (lambda x: np.repeat(x, 3, axis=-1), [(2, 3)]),
    "repeat_array": (lambda x: np.repeat(x, [2, 0, 1], axis=1), [(2, 3)]),
    "repeat_array_flat": (lambda x: np.repeat(x, [1, 3, 2, 1]), [(2, 2)]),
    "repeat_method": (lambda x: x.repeat(2, axis=0), [(2, 3)]),
    # reordered elements
    "flip": (np.flip, [(2, 3)]),
    "flip_axes": (lambda x: np.flip(x, (0, 2)), [(2, 3, 2)]),
    "fliplr": (np.fliplr, [(2, 3)]),
    "flipud": (np.flipud, [(2, 3)]),
    "rot90": (np.rot90, [(2, 3)]),
    "rot90_k": (lambda x: np.rot90(x, -3, axes=(1, 2)), [(2, 3, 4)]),
    "roll": (lambda x: np.roll(x, 2), [(2, 3)]),
    "roll_axes": (lambda x: np.roll(x, (1, -2), axis=(0, 1)), [(2, 3)]),
    # diagonals and triangles
    "diag_vector": (np.diag, [(3,)]),
    "diag_vector_k": (lambda v: np.diag(v, 2), [(3,)]),
    "diag_vector_-k": (lambda v: np.diag(v, -1), [(3,)]),
    "diag_matrix": (np.diag, [(3, 3)]),
    "diag_wide_k": (lambda x: np.diag(x, 1), [(3, 5)]),
    "diag_wide_-k": (lambda x: np.diag(x, -1), [(3, 5)]),
    "diag_tall_k": (lambda x: np.diag(x, 1), [(5, 3)]),
    "diag_tall_-k": (lambda x: np.diag(x, -2), [(5, 3)]),
    "diagflat": (lambda v: np.diagflat(v, 1), [(2, 2)]),
    "diagonal": (np.diagonal, [(3, 4)]),
    "diagonal_axes": (lambda x: np.diagonal(x, 1, axis1=2, axis2=0), [(3, 2, 4)]),
    "diagonal_method": (lambda x: x.diagonal(-1), [(4, 3)]),
    "trace": (np.trace, [(3, 4)]),
    "trace_axes": (lambda x: np.trace(x, -1, axis1=-1, axis2=0), [(3, 2, 4)]),
    "triu": (np.triu, [(3, 4)]),
    "triu_k": (lambda x: np.triu(x, -1), [(2, 3, 3)]),
    "tril": (lambda x: np.tril(x, 1), [(4, 3)]),
    "tril_vector": (np.tril, [(3,)]),
    # padding
    "pad": (lambda x: np.pad(x, 1), [(2, 3)]),
    "pad_widths": (lambda x: np.pad(x, ((1, 0), (2, 3)), constant_values=4.0), [(2, 3)]),
    "pad_edge": (lambda x: np.pad(x, (2, 1), mode="edge"), [(2, 3)]),
    "pad_wrap": (lambda x: np.pad(x, 3, mode="wrap"), [(2, 3)]),
    "pad_reflect": (lambda x: np.pad(x, ((2, 1), (0, 2)), mode="reflect"), [(3, 3)]),
    "pad_symmetric": (lambda x: np.pad(x, 2, mode="symmetric"), [(3,)]),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_derivatives(name, dtype, rng):
    fn, shapes = SHAPE_OPS[name]
    check_grads(fn, *random_args(shapes, dtype, rng))


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_rules_nest(name, rng):
    fn, shapes = SHAPE_OPS[name]
    args = random_args(shapes, np.float64, rng)
    f = lambda *a: sin_of_each(fn(*a))
    check_grads(f, *args, order=2)
    us = random_args(shapes, np.float64, rng)
    check_grads(lambda *a: wg.jvp(f, a, us)[1], *args)


def test_atleast_with_several_arguments_returns_a_tuple(rng):
    a, b = rng.standard_normal(()), rng.standard_normal(3)
    ga, gb = wg.gradient(lambda a, b: np.sum(np.atleast_2d(a, b)[1] * 3.0), a, b)
    assert np.shape(ga) == () and ga == 0
    np.testing.assert_array_equal(gb, 3.0 * np.ones(3))
    _, (da, db) = wg.jvp(lambda a, b: np.atleast_2d(a, b), (a, b), (wg.Zero(), np.ones(3)))
    np.testing.assert_array_equal(da, np.zeros((1, 1)))
    np.testing.assert_array_equal(db, np.ones((1, 3)))


def test_broadcast_arrays_tangents_with_a_constant(rng):
    a, u = rng.standard_normal((3, 1)), rng.standard_normal((3, 1))
    _, (da, db) = wg.jvp(lambda a: np.broadcast_arrays(a, np.ones(4)), (a,), (u,))
    np.testing.assert_array_equal(da, np.broadcast_to(u, (3, 4)))
    np.testing.assert_array_equal(db, np.zeros((3, 4)))


def test_broadcast_arrays_results_are_the_callers_own_without_warnings(rng):
    # np.broadcast_arrays gives views of shared elements that warn when written (or when
    # their writeable flag is read): what wengert returns must be plain arrays of the
    # caller's, and wengert itself must not trigger the warning.
    a, u = rng.standard_normal((3, 1)), rng.standard_normal((3, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values, back = wg.pullback(lambda a: np.broadcast_arrays(a, np.ones(4)), a)
        (g,) = back([np.ones((3, 4)), np.ones((3, 4))])
        _, tangents = wg.jvp(lambda a: np.broadcast_arrays(a, np.ones(4)), (a,), (u,))
        (h,) = wg.gradient(lambda b: np.sum(np.broadcast_arrays(b, np.ones(4))[0] ** 2), a)
        np.testing.assert_allclose(h, 8 * a)
        for out in (*values, *tangents, g, h):
            out[0, 0] = 7.0   # no FutureWarning: an array of its own
    # The rows of a broadcast view share their elements; the caller's arrays do not.
    assert values[1][1, 0] == 1.0 and tangents[1][1, 0] == 0.0
    np.testing.assert_array_equal(g, np.r_[7.0, 4.0, 4.0][:, None])


# --- astype ------------------------------------------------------------------------------------


def test_astype_casts_the_cotangent_back(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    check_grads(lambda x: x.astype(np.float64) ** 2, x)
    (g,) = wg.gradient(lambda x: np.sum(x.astype(np.float64)), x)
    assert g.dtype == np.float32


def test_astype_real_to_complex_keeps_the_real_part(rng):
    x = rng.standard_normal(3)
    check_grads(lambda x: x.astype(np.complex128) * (1 + 2j), x)
    (g,) = wg.gradient(lambda x: np.sum(np.abs(x.astype(np.complex128) * 1j) ** 2), x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x)


def test_astype_to_integer_carries_no_tangent():
    x = np.array([1.7, -2.2, 3.5])
    (g,) = wg.gradient(lambda x: np.sum(x.astype(np.int64) * x), x)
    np.testing.assert_array_equal(g, [1.0, -2.0, 3.0])


def test_astype_second_order(rng):
    x = rng.standard_normal(3).astype(np.float32)
    f = lambda x: np.sin(x.astype(np.float64))
    check_grads(f, x, order=2)
    check_grads(lambda x: wg.jvp(f, (x,), (np.ones(3, np.float32),))[1], x)


def test_astype_tangent_takes_the_target_dtype(rng):
    x, u = (rng.standard_normal(3).astype(np.float32) for _ in range(2))
    _, dy = wg.jvp(lambda x: x.astype(np.float64), (x,), (u,))
    assert dy.dtype == np.float64
    np.testing.assert_array_equal(dy, u)
    _, dy = wg.jvp(lambda x: x.astype(np.int64) * x, (x,), (u,))   # the int cast: no tangent
    np.testing.assert_allclose(dy, x.astype(np.int64) * u)
    z = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    with pytest.warns(np.exceptions.ComplexWarning):   # NumPy's own, for the value
        _, dy = wg.jvp(lambda z: z.astype(np.float64), (z,), (z * 2j,))
    assert dy.dtype == np.float64
    np.testing.assert_allclose(dy, np.real(z * 2j))


@pytest.mark.parametrize("order", ["A", "K"])
def test_ravel_in_memory_order_of_a_fortran_array(order, rng):
    x = np.asfortranarray(rng.standard_normal((3, 4)))
    w = rng.standard_normal(12)
    (g,) = wg.gradient(lambda x: np.sum(np.ravel(x, order=order) * w), x)
    np.testing.assert_array_equal(g, np.reshape(w, (3, 4), order="F"))


# --- values of a few transposes that finite differences would not single out ----------------------


def test_repeat_with_zero_repeats_gets_zero_gradient():
    (g,) = wg.gradient(lambda x: np.sum(np.repeat(x, [3, 0, 2]) * 2.0), np.ones(3))
    np.testing.assert_array_equal(g, [6.0, 0.0, 4.0])


def test_trace_gradient_is_the_identity_pattern():
    (g,) = wg.gradient(np.trace, np.ones((3, 4)))
    np.testing.assert_array_equal(g, np.eye(3, 4))


def test_pad_gradient_ignores_the_padding():
    (g,) = wg.gradient(lambda x: np.sum(np.pad(x, 2, constant_values=7.0)), np.ones((2, 2)))
    np.testing.assert_array_equal(g, np.ones((2, 2)))
    (g,) = wg.gradient(lambda x: np.sum(np.pad(x, (0, 2), mode="edge")), np.ones(3))
    np.testing.assert_array_equal(g, [1.0, 1.0, 3.0])


def test_pad_mode_without_a_rule_is_refused():
    with pytest.raises(wg.DifferentiationError, match="linear_ramp"):
        wg.gradient(lambda x: np.sum(np.pad(x, 1, mode="linear_ramp")), np.ones(3))


# --- forward mode: a one-element sparse tangent (OneHot) moves without a dense array -------------

# (function, positional arguments after x, keyword arguments), for x of shape (2, 3, 4)
MOVES = [
    (np.reshape, ((4, 6),), {}), (np.reshape, ((6, -1),), {"order": "F"}),
    (np.ravel, (), {}), (np.ravel, (), {"order": "F"}),
    (np.transpose, (), {}), (np.transpose, ((1, -1, 0),), {}),
    (np.moveaxis, (0, -1), {}), (np.moveaxis, ((0, 1), (2, 0)), {}),
    (np.swapaxes, (0, 2), {}), (np.rollaxis, (2, 0), {}), (np.matrix_transpose, (), {}),
    (np.expand_dims, ((0, -1),), {}), (np.squeeze, (), {}), (np.copy, (), {}),
    (np.pad, (((1, 0), (2, 3), (0, 1)),), {"constant_values": 5.0}),
    (np.atleast_3d, (), {}),
]


@pytest.mark.parametrize("position", [(1, 2, 3), (0, 0, 1)])
@pytest.mark.parametrize("fn, args, kwargs", MOVES,
                         ids=[f"{fn.__name__}-{i}" for i, (fn, _, _) in enumerate(MOVES)])
def test_one_hot_tangent_moves_sparse(fn, args, kwargs, position, rng):
    x = rng.standard_normal((2, 3, 4))
    tangents = [OneHot(position, x.shape)] + [wg.Zero()] * len(args)
    out, dy = forward_rules.generic[fn].impl(tangents, x, *args, **kwargs)
    u = np.zeros(x.shape)
    u[position] = 1.0
    _, expected = wg.jvp(lambda x: fn(x, *args, **kwargs), (x,), (u,))
    assert isinstance(dy, Indexed) and dy.shape == out.shape
    np.testing.assert_array_equal(dy.to_dense(), expected)


def test_one_hot_tangent_of_a_squeezed_axis_and_of_a_fortran_array(rng):
    y = rng.standard_normal((1, 3, 1, 4))
    _, dy = forward_rules.generic[np.squeeze].impl([OneHot((0, 2, 0, 1), y.shape), wg.Zero()],
                                                    y, -2)
    assert (dy.index, dy.shape) == ((0, 2, 1), (1, 3, 4))
    f = np.asfortranarray(rng.standard_normal((3, 4)))   # 'A' reads it in column order
    _, dy = forward_rules.generic[np.ravel].impl([OneHot((1, 2), f.shape)], f, order="A")
    assert dy.index == (7,)


def test_astype_keeps_a_sparse_tangent_sparse():
    x = np.ones((2, 3), np.float32)
    _, dy = forward_rules.generic[_astype].impl([OneHot((1, 1), x.shape, np.float32)], x,
                                                np.dtype(np.float64))
    assert isinstance(dy, Indexed) and dy.dtype == np.float64 and dy.index == (1, 1)


def test_a_partial_derivative_through_shape_functions_forms_no_dense_tangent(monkeypatch, rng):
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal((4, 1, 6))
    f = lambda x: np.sum(np.expand_dims(np.reshape(np.moveaxis(x.T, 0, 1), (4, 6)), 1) * w)
    expected = wg.gradient(f, x)[0][1, 0, 2]

    def refuse(t):
        raise AssertionError("a sparse tangent was made dense")

    monkeypatch.setattr(Indexed, "to_dense", refuse)
    assert wg.partial(f, x, index=(1, 0, 2)) == pytest.approx(expected, rel=1e-12)
