"""Reverse rules of the shape functions (rules/shapes.py), checked against finite differences.

One spec table (SHAPE_OPS: function of the arguments, argument shapes) drives the checks in
float32, float64 and complex128, and a second-order check with a nonlinear function after
the shape function (so its transpose receives a traced cotangent). The tests below pin
list arguments, unused outputs of split, and astype."""
import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_grads

REVERSE = ("reverse",)
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
    "unstack": (lambda x: np.unstack(x, axis=1), [(2, 3)]),
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


def random_args(shapes, dtype, rng):
    args = []
    for shape in shapes:
        x = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(shape)
        args.append(np.asarray(x, dtype=dtype))
    return args


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_gradients(name, dtype, rng):
    fn, shapes = SHAPE_OPS[name]
    check_grads(fn, *random_args(shapes, dtype, rng), modes=REVERSE)


def sin_of_each(out):
    return [np.sin(o) for o in out] if isinstance(out, (list, tuple)) else np.sin(out)


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_rules_nest(name, rng):
    fn, shapes = SHAPE_OPS[name]
    check_grads(lambda *a: sin_of_each(fn(*a)), *random_args(shapes, np.float64, rng),
                modes=REVERSE, order=2)


# --- list arguments ------------------------------------------------------------------------------


def test_concatenate_mix_of_traced_and_constant(rng):
    c1, c2 = rng.standard_normal((2, 3)), rng.standard_normal((1, 3))
    x = rng.standard_normal((4, 3))
    check_grads(lambda x: np.concatenate([c1, x, c2]), x, modes=REVERSE)
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
    check_grads(lambda x: np.hstack((x, 1.5, x)), x, modes=REVERSE)


# --- split: the pullback receives Zero for the parts that were not used ---------------------------


def test_split_feeding_a_sum_of_some_parts(rng):
    x = rng.standard_normal(6)
    (g,) = wg.gradient(lambda x: np.sum(np.split(x, 3)[1] ** 2), x)
    np.testing.assert_allclose(g, [0, 0, 2 * x[2], 2 * x[3], 0, 0])
    check_grads(lambda x: np.sum(np.split(x, 3)[2]) * np.split(x, 3)[0], x, modes=REVERSE)


def test_array_split_unused_parts_second_order(rng):
    x = rng.standard_normal((2, 7))
    check_grads(lambda x: np.sin(np.array_split(x, 3, axis=1)[1]), x, modes=REVERSE, order=2)


def test_atleast_with_several_arguments_returns_a_tuple(rng):
    a, b = rng.standard_normal(()), rng.standard_normal(3)
    ga, gb = wg.gradient(lambda a, b: np.sum(np.atleast_2d(a, b)[1] * 3.0), a, b)
    assert np.shape(ga) == () and ga == 0
    np.testing.assert_array_equal(gb, 3.0 * np.ones(3))


# --- astype ------------------------------------------------------------------------------------


def test_astype_casts_the_cotangent_back(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    check_grads(lambda x: x.astype(np.float64) ** 2, x, modes=REVERSE)
    (g,) = wg.gradient(lambda x: np.sum(x.astype(np.float64)), x)
    assert g.dtype == np.float32


def test_astype_real_to_complex_keeps_the_real_part(rng):
    x = rng.standard_normal(3)
    check_grads(lambda x: x.astype(np.complex128) * (1 + 2j), x, modes=REVERSE)
    (g,) = wg.gradient(lambda x: np.sum(np.abs(x.astype(np.complex128) * 1j) ** 2), x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x)


def test_astype_to_integer_carries_no_tangent():
    x = np.array([1.7, -2.2, 3.5])
    (g,) = wg.gradient(lambda x: np.sum(x.astype(np.int64) * x), x)
    np.testing.assert_array_equal(g, [1.0, -2.0, 3.0])


def test_astype_second_order(rng):
    x = rng.standard_normal(3).astype(np.float32)
    check_grads(lambda x: np.sin(x.astype(np.float64)), x, modes=REVERSE, order=2)


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
