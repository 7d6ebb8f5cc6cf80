"""Gradient checks of the product rules: matmul, dot, vdot, inner, outer, tensordot, einsum,
kron, over their shape cases, real and complex dtypes, and to second order."""
import numpy as np
import pytest

import wengert as wg
from wengert.rules.products import _explicit_subscripts
from wengert.testing import check_grads

DTYPES = [np.float32, np.float64, np.complex128]


def array(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def einsum(subscripts):
    return lambda *ops: np.einsum(subscripts, *ops)


def tensordot(axes):
    return lambda a, b: np.tensordot(a, b, axes)


# (id, function, operand shapes, order): one row per shape case.
PRODUCTS = [
    ("matmul 2d 2d", np.matmul, [(3, 4), (4, 2)], 2),
    ("matmul operator", lambda a, b: a @ b, [(2, 3), (3, 3)], 1),
    ("matmul 1d 1d", np.matmul, [(4,), (4,)], 2),
    ("matmul 1d 2d", np.matmul, [(4,), (4, 2)], 2),
    ("matmul 2d 1d", np.matmul, [(3, 4), (4,)], 2),
    ("matmul batched", np.matmul, [(2, 3, 4), (2, 4, 2)], 2),
    ("matmul broadcast batch", np.matmul, [(2, 1, 2, 3), (3, 3, 2)], 1),
    ("matmul batched 1d", np.matmul, [(2, 3, 4), (4,)], 1),
    ("matmul 1d batched", np.matmul, [(4,), (2, 4, 3)], 1),
    ("dot scalar 1d", np.dot, [(), (3,)], 2),
    ("dot 2d scalar", np.dot, [(2, 3), ()], 1),
    ("dot 1d 1d", np.dot, [(4,), (4,)], 2),
    ("dot 2d 1d", np.dot, [(3, 4), (4,)], 1),
    ("dot 3d 1d", np.dot, [(2, 3, 4), (4,)], 1),
    ("dot 1d 3d", np.dot, [(3,), (2, 3, 2)], 1),
    ("dot 2d 2d", np.dot, [(3, 4), (4, 2)], 2),
    ("dot 3d 2d", np.dot, [(2, 2, 3), (3, 2)], 1),
    ("dot 2d 3d", np.dot, [(2, 3), (2, 3, 2)], 2),
    ("dot 3d 3d", np.dot, [(2, 2, 3), (2, 3, 2)], 1),
    ("vdot 1d", np.vdot, [(4,), (4,)], 2),
    ("vdot 2d 2d", np.vdot, [(2, 3), (2, 3)], 1),
    ("vdot 2d flat", np.vdot, [(2, 3), (6,)], 1),
    ("inner scalar", np.inner, [(), (2, 3)], 1),
    ("inner 1d 1d", np.inner, [(4,), (4,)], 1),
    ("inner 2d 3d", np.inner, [(2, 3), (2, 2, 3)], 2),
    ("outer 1d 1d", np.outer, [(3,), (4,)], 2),
    ("outer flattens", np.outer, [(2, 2), (3,)], 1),
    ("tensordot default", np.tensordot, [(2, 3, 4), (3, 4, 2)], 2),
    ("tensordot int 0", tensordot(0), [(2,), (3, 2)], 1),
    ("tensordot int 1", tensordot(1), [(2, 3), (3, 2)], 1),
    ("tensordot pair of ints", tensordot((0, 1)), [(3, 2), (2, 3)], 1),
    ("tensordot crossed axes", tensordot(([1, 0], [0, 2])), [(2, 3, 2), (3, 2, 2)], 2),
    ("tensordot negative axes", tensordot(([-1], [-2])), [(2, 3), (2, 3, 2)], 1),
    ("kron 1d 1d", np.kron, [(2,), (3,)], 2),
    ("kron 2d 2d", np.kron, [(2, 3), (2, 2)], 1),
    ("kron 1d 2d", np.kron, [(2,), (2, 3)], 1),
    ("kron 3d 2d", np.kron, [(2, 1, 2), (3, 2)], 1),
    ("einsum matmul", einsum("ij,jk->ik"), [(3, 4), (4, 2)], 2),
    ("einsum implicit matmul", einsum("ij,jk"), [(3, 4), (4, 2)], 1),
    ("einsum implicit ascii order", einsum("bA,Ac"), [(2, 3), (3, 4)], 1),
    ("einsum transpose", einsum("ij->ji"), [(2, 3)], 1),
    ("einsum implicit transpose", einsum("ba"), [(2, 3)], 1),
    ("einsum diagonal", einsum("ii->i"), [(3, 3)], 2),
    ("einsum trace", einsum("ii"), [(3, 3)], 2),
    ("einsum trace explicit", einsum("ii->"), [(3, 3)], 1),
    ("einsum triple diagonal", einsum("iii->i"), [(2, 2, 2)], 1),
    ("einsum diagonal and sum", einsum("iij->j"), [(2, 2, 3)], 1),
    ("einsum diagonal times vector", einsum("ii,i->i"), [(3, 3), (3,)], 2),
    ("einsum batched diagonal", einsum("...ii->...i"), [(2, 3, 3)], 2),
    ("einsum two diagonals", einsum("ii,ii->i"), [(3, 3), (3, 3)], 1),
    ("einsum implicit scalar", einsum("ij,ij"), [(2, 3), (2, 3)], 1),
    ("einsum sum over axis", einsum("ij->i"), [(3, 4)], 2),
    ("einsum total sum", einsum("ij->"), [(3, 4)], 1),
    ("einsum index only in one operand", einsum("ij,k->ik"), [(2, 3), (4,)], 2),
    ("einsum outer", einsum("i,j->ij"), [(2,), (3,)], 1),
    ("einsum hadamard", einsum("ij,ij->ij"), [(2, 3), (2, 3)], 1),
    ("einsum three operands", einsum("ij,jk,kl->il"), [(2, 3), (3, 2), (2, 2)], 2),
    ("einsum bilinear form", einsum("i,ij,j"), [(3,), (3, 4), (4,)], 1),
    ("einsum ellipsis batch", einsum("...ij,...jk->...ik"), [(2, 3, 4), (2, 4, 2)], 2),
    ("einsum ellipsis broadcast", einsum("...ij,...jk"), [(2, 1, 2, 3), (3, 3, 2)], 1),
    ("einsum ellipsis implicit", einsum("i...->..."), [(3, 2, 2)], 1),
    ("einsum ellipsis middle", einsum("i...j,j->i..."), [(2, 3, 2, 4), (4,)], 1),
    ("einsum size-1 broadcast", einsum("ij,ij->ij"), [(1, 3), (2, 3)], 1),
    ("einsum scalar operand", einsum(",ij->ij"), [(), (2, 3)], 1),
    ("einsum spaces", einsum("i j , j k -> i k"), [(2, 3), (3, 2)], 1),
]


def _operands(shapes, dtype, rng):
    return [array(shape, dtype, rng) for shape in shapes]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name, fn, shapes, order", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_product_gradient(name, fn, shapes, order, dtype, rng):
    operands = _operands(shapes, dtype, rng)
    check_grads(fn, *operands)


SECOND_ORDER = [p for p in PRODUCTS if p[3] == 2]


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
@pytest.mark.parametrize("name, fn, shapes, order", SECOND_ORDER, ids=[p[0] for p in SECOND_ORDER])
def test_product_second_order(name, fn, shapes, order, dtype, rng):
    operands = _operands(shapes, dtype, rng)
    check_grads(fn, *operands, order=2)


# A real factor times a complex one: the real factor's cotangent must be real.
MIXED = [p for p in PRODUCTS if len(p[2]) == 2 and p[0].split()[0] in (
    "matmul", "dot", "vdot", "inner", "outer", "tensordot", "kron", "einsum")][::3]


@pytest.mark.parametrize("name, fn, shapes, order", MIXED, ids=[p[0] for p in MIXED])
def test_product_real_times_complex(name, fn, shapes, order, rng):
    check_grads(fn, array(shapes[0], np.float64, rng), array(shapes[1], np.complex128, rng))
    check_grads(fn, array(shapes[0], np.complex128, rng), array(shapes[1], np.float64, rng))


def test_mixed_precision_cotangents_keep_each_dtype(rng):
    a = array((3, 4), np.float32, rng)
    b = array((4, 2), np.float64, rng)
    ga, gb = wg.gradient(lambda a, b: np.sum(a @ b), a, b)
    assert ga.dtype == np.float32 and gb.dtype == np.float64
    np.testing.assert_allclose(ga, np.ones((3, 2)) @ b.T, rtol=1e-6)


def test_constant_factor_gets_no_cotangent_but_the_other_is_right(rng):
    a, b = array((3, 4), np.float64, rng), array((4, 2), np.float64, rng)
    (ga,) = wg.gradient(lambda a: np.sum(np.einsum("ij,jk->ik", a, b)), a)
    np.testing.assert_allclose(ga, np.broadcast_to(b.sum(axis=1), (3, 4)))
    (gb,) = wg.gradient(lambda b: np.sum(np.dot(a, b)), b)
    np.testing.assert_allclose(gb, np.broadcast_to(a.sum(axis=0)[:, None], (4, 2)))


def test_vdot_conjugates_its_first_argument(rng):
    a, b = array(3, np.complex128, rng), array(3, np.complex128, rng)
    # Re vdot(a, b) = Re Σ conj(a) b: its gradient in a is b, in b it is a.
    ga, gb = wg.gradient(lambda a, b: np.real(np.vdot(a, b)), a, b)
    np.testing.assert_allclose(ga, b)
    np.testing.assert_allclose(gb, a)


def test_einsum_sublist_form(rng):
    a, b = array((2, 3), np.float64, rng), array((3, 4), np.float64, rng)
    check_grads(lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), a, b)
    # Implicit output in integer order: [0, 2].
    check_grads(lambda a, c: np.einsum(a, [1, 0], c, [1, 2]), a.T.copy(),
                array((3, 4), np.float64, rng))
    check_grads(lambda a: np.einsum(a, [Ellipsis, 0, 0]), array((2, 3, 3), np.float64, rng))


def test_einsum_optimize_is_passed_through(rng):
    ops = _operands([(2, 3), (3, 4), (4, 2)], np.float64, rng)
    check_grads(lambda *o: np.einsum("ij,jk,kl->il", *o, optimize=True), *ops)


@pytest.mark.parametrize("subscripts, shapes", [
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ba", [(2, 3)]),
    ("Ba,aC", [(2, 3), (3, 4)]),
    ("ii", [(3, 3)]),
    ("...ij,j", [(5, 2, 3), (3,)]),
    ("i...,i", [(2, 5, 3), (2,)]),
    ("...i,...i", [(2, 1, 3), (4, 3)]),
])
def test_explicit_subscripts_match_numpy(subscripts, shapes, rng):
    ops = _operands(shapes, np.float64, rng)
    inputs, output = _explicit_subscripts(subscripts, tuple(shapes))
    explicit = ",".join(inputs) + "->" + output
    np.testing.assert_allclose(np.einsum(explicit, *ops), np.einsum(subscripts, *ops))


LIST_CONSTANT_CASES = [
    ("matmul", np.matmul, [[1.0, 2.0], [3.0, -1.0]]),
    ("dot", np.dot, [[1.0, 2.0], [3.0, -1.0]]),
    ("inner", np.inner, [[1.0, 2.0], [3.0, -1.0]]),
    ("outer", np.outer, [[1.0, 2.0], [3.0, -1.0]]),
    ("vdot", np.vdot, [1.0, -2.0]),
    ("kron", np.kron, [[1.0, 2.0], [3.0, -1.0]]),
    ("tensordot", lambda a, b: np.tensordot(a, b, 1), [[1.0, 2.0], [3.0, -1.0]]),
    ("einsum", einsum("ij,j->i"), [[1.0, 2.0], [3.0, -1.0]]),
]


@pytest.mark.parametrize("name, fn, constant", LIST_CONSTANT_CASES,
                         ids=[c[0] for c in LIST_CONSTANT_CASES])
def test_nested_list_constant_operand(name, fn, constant, rng):
    x = array(2, np.float64, rng)
    (g,) = wg.gradient(lambda x: np.sum(np.sin(fn(constant, x))), x)
    (expected,) = wg.gradient(lambda x: np.sum(np.sin(fn(np.array(constant), x))), x)
    np.testing.assert_allclose(g, expected)
    check_grads(lambda x: fn(constant, x), x)
