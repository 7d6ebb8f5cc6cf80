"""Derivative checks of the product rules in both modes: matmul, dot, vdot, inner, outer,
tensordot, einsum, kron, vecdot, cross, over their shape cases, real and complex dtypes, to
second order, and the sparse tangents forward mode keeps."""
import numpy as np
import pytest

import wengert as wg
from wengert.registry import forward_rules
from wengert.rules.einsum import _explicit_subscripts
from wengert.tangents import ZERO, Indexed, OneHot, to_dense
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
    ("cross", np.cross, [(3,), (3,)], 2),
    ("cross broadcast", np.cross, [(2, 3), (3,)], 2),
    ("cross axes", lambda a, b: np.cross(a, b, axisa=0, axisb=-1, axisc=0), [(3, 2), (2, 3)], 1),
    ("cross axes positional", lambda a, b: np.cross(a, b, 0, 1, 1), [(3, 1, 2), (2, 3)], 1),
    ("cross axis", lambda a, b: np.cross(a, b, axis=0), [(3, 2), (3, 1)], 1),
]
if hasattr(np, "vecdot"):   # NumPy 2
    PRODUCTS += [
        ("vecdot", np.vecdot, [(2, 3), (3,)], 2),
        ("vecdot axis", lambda a, b: np.vecdot(a, b, axis=0), [(3, 2), (3, 1)], 1),
        ("vecdot keepdims", lambda a, b: np.vecdot(a, b, keepdims=True), [(2, 3), (2, 3)], 1),
        ("vecdot axis keepdims", lambda a, b: np.vecdot(a, b, axis=-2, keepdims=True),
         [(2, 3, 2), (3, 1)], 1),
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
    "matmul", "dot", "vdot", "inner", "outer", "tensordot", "kron", "einsum", "cross",
    "vecdot")][::3]


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


# ---------------------------------------------------------------------------------------------
# Forward mode: sparse tangents, nesting, complex, vecdot and cross
# ---------------------------------------------------------------------------------------------

def frule(fn):
    return forward_rules.generic[fn].impl


@pytest.mark.parametrize("dtype", [np.float64, np.complex128], ids=["float64", "complex128"])
@pytest.mark.parametrize("name, fn, shapes, order", SECOND_ORDER, ids=[p[0] for p in SECOND_ORDER])
def test_product_forward_over_forward(name, fn, shapes, order, dtype, rng):
    # The forward derivative of a forward derivative: the inner jvp runs on dual numbers.
    operands = _operands(shapes, dtype, rng)
    directions = tuple(_operands(shapes, dtype, rng))
    square = lambda *ops: fn(*ops) * fn(*ops)   # not bilinear, so the check sees curvature
    check_grads(lambda *ops: wg.jvp(square, ops, directions)[1], *operands, modes=("forward",))


@pytest.mark.parametrize("name, fn, shapes, order", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_forward_jacobian_from_one_hot_tangents(name, fn, shapes, order, rng):
    operands = _operands(shapes, np.float64, rng)
    for j_forward, j_reverse in zip(wg.jacobian(fn, *operands, mode="forward"),
                                    wg.jacobian(fn, *operands)):
        np.testing.assert_allclose(j_forward, j_reverse, rtol=1e-12, atol=1e-12)


# (a shape, b shape, factor with the one-hot tangent, what the tangent of a @ b should be:
# the shape of an Indexed's values, or "dense" where the row or column is the whole result
# or where batches on both sides could spread the point).
ONE_HOT_MATMUL = [
    ((3, 4), (4, 2), 0, (2,)), ((3, 4), (4, 2), 1, (3,)),
    ((4,), (4, 2), 0, "dense"), ((4,), (4, 2), 1, ()),
    ((3, 4), (4,), 0, ()), ((3, 4), (4,), 1, "dense"),
    ((4,), (4,), 0, "dense"), ((4,), (4,), 1, "dense"),
    ((2, 3, 4), (4, 2), 0, (2,)), ((2, 3, 4), (4, 2), 1, (2, 3)),
    ((2, 3, 4), (4,), 0, ()), ((2, 3, 4), (4,), 1, "dense"),
    ((3, 4), (2, 4, 2), 0, (2, 2)), ((3, 4), (2, 4, 2), 1, (3,)),
    ((4,), (2, 4, 2), 0, "dense"), ((4,), (2, 4, 2), 1, ()),
    ((2, 3, 4), (2, 4, 2), 0, "dense"), ((2, 1, 3, 4), (2, 4, 2), 1, "dense"),
]


@pytest.mark.parametrize("fn", [np.matmul, np.dot], ids=["matmul", "dot"])
@pytest.mark.parametrize("a_shape, b_shape, side, kept", ONE_HOT_MATMUL,
                         ids=lambda v: str(v).replace(" ", ""))
def test_one_hot_times_a_matrix_is_one_row_or_column(fn, a_shape, b_shape, side, kept, rng):
    if fn is np.dot and min(len(a_shape), len(b_shape)) > 1 and len(a_shape + b_shape) > 4:
        kept = "dense"   # np.dot of two arrays beyond 2-D is a tensordot, not a matmul
    dtype = np.complex128
    a, b = array(a_shape, dtype, rng), array(b_shape, dtype, rng)
    shape = (a_shape, b_shape)[side]
    for k in range(int(np.prod(shape))):
        point = tuple(int(i) for i in np.unravel_index(k, shape))
        tangents = [ZERO, ZERO]
        tangents[side] = OneHot(point, shape, dtype)
        out, t = frule(fn)(tangents, a, b)
        dense = [a, b]
        dense[side] = to_dense(tangents[side])
        np.testing.assert_allclose(to_dense(t), fn(*dense), rtol=1e-14, atol=1e-14)
        if kept == "dense":
            assert not isinstance(t, Indexed)
        else:
            assert isinstance(t, Indexed) and np.shape(t.values) == kept


def test_one_hot_through_dot_with_a_scalar_outer_and_vdot_stays_sparse(rng):
    x, y = array((3, 4), np.complex128, rng), array(5, np.complex128, rng)
    s = np.complex128(2 - 1j)
    _, t = frule(np.dot)([OneHot((1, 2), x.shape, x.dtype), ZERO], x, s)
    assert isinstance(t, Indexed)
    np.testing.assert_allclose(to_dense(t), np.dot(to_dense(OneHot((1, 2), x.shape)), s))
    _, row = frule(np.outer)([OneHot((1, 2), x.shape, x.dtype), ZERO], x, y)
    assert isinstance(row, Indexed) and row.index == (6,) and np.shape(row.values) == (5,)
    np.testing.assert_allclose(to_dense(row)[6], y)
    _, column = frule(np.outer)([ZERO, OneHot(3, y.shape, y.dtype)], x, y)
    assert isinstance(column, Indexed) and np.shape(column.values) == (12,)
    np.testing.assert_allclose(to_dense(column)[:, 3], x.ravel())
    # vdot meets one element of the other factor, conjugating a tangent of the first.
    z = array(12, np.complex128, rng)
    one = OneHot(5, x.shape, x.dtype)
    i_one = Indexed(one.index, np.complex128(1j), one.shape, one.dtype)
    assert frule(np.vdot)([i_one, ZERO], x, z)[1] == pytest.approx(-1j * z[5])
    assert frule(np.vdot)([ZERO, OneHot(6, z.shape, z.dtype)], x, z)[1] == pytest.approx(
        np.conj(x[1, 2]))


def test_partial_through_matmul_never_densifies(monkeypatch, rng):
    a, b = array((30, 40), np.complex128, rng), array((40, 20), np.complex128, rng)

    def refuse(self):
        raise AssertionError("a sparse tangent was made dense")

    monkeypatch.setattr(Indexed, "to_dense", refuse)
    # ∂(a @ b)[3] / ∂a[3, 7] is row 7 of b; ∂(a @ b)[4] / ∂a[3, 7] is zero.
    np.testing.assert_allclose(wg.partial(lambda a: (a @ b)[3], a, index=(3, 7)), b[7])
    np.testing.assert_allclose(wg.partial(lambda a: (a @ b)[4], a, index=(3, 7)), 0)
    np.testing.assert_allclose(wg.partial(lambda b: (a @ b)[:, 5], b, index=(7, 5)), a[:, 7])
    np.testing.assert_allclose(wg.partial(lambda b: np.dot(a[2], b)[5], b, index=(7, 5)),
                               a[2, 7])


@pytest.mark.parametrize("fn", [np.vdot, lambda a, b: np.vecdot(a, b)], ids=["vdot", "vecdot"])
def test_conjugating_products_conjugate_the_first_tangent(fn, rng):
    if fn is not np.vdot and not hasattr(np, "vecdot"):
        pytest.skip("np.vecdot needs NumPy 2")
    a, b, ta, tb = (array(3, np.complex128, rng) for _ in range(4))
    _, t = wg.jvp(fn, (a, b), (ta, tb))
    np.testing.assert_allclose(t, np.sum(np.conj(ta) * b + np.conj(a) * tb))


def _numpy_crosses_2_vectors():
    """NumPy 2.0 deprecated np.cross of 2-vectors and 2.5 refuses it (ValueError)."""
    try:
        np.cross(np.ones(2), np.ones(2))
    except ValueError:
        return False
    return True


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
@pytest.mark.parametrize("shapes", [[(2,), (2,)], [(4, 2), (2,)], [(2,), (3,)], [(3, 2), (3,)]],
                         ids=str)
def test_cross_of_2_vectors(shapes, rng):
    if not _numpy_crosses_2_vectors():
        # As NumPy itself refuses them, so does a traced call: no derivative of an error.
        for mode in (wg.gradient, lambda f, *xs: wg.jvp(f, xs, xs)):
            with pytest.raises(ValueError, match="3-dimensional vectors"):
                mode(lambda a, b: np.sum(np.cross(a, b)), *_operands(shapes, np.float64, rng))
        return
    # NumPy reads a 2-vector as (x, y, 0); two of them give only the z component.
    check_grads(np.cross, *_operands(shapes, np.complex128, rng))
    check_grads(np.cross, *_operands(shapes, np.float64, rng), order=2)


def test_second_partials_of_a_quadratic_form_stay_sparse(monkeypatch, rng):
    # ∂²(x·Ax)/∂x_i∂x_j = A_ij + A_ji: a partial of a partial nests forward over forward,
    # one-hot tangents on both levels, and nothing is made dense.
    a = array((6, 6), np.float64, rng)
    x = array(6, np.float64, rng)

    def refuse(self):
        raise AssertionError("a sparse tangent was made dense")

    monkeypatch.setattr(Indexed, "to_dense", refuse)
    quadratic = lambda x: x @ a @ x
    for i, j in ((1, 4), (2, 2), (5, 0)):
        second = wg.partial(lambda y: wg.partial(quadratic, y, index=i), x, index=j)
        assert second == pytest.approx(a[i, j] + a[j, i])


def test_hessian_of_a_quadratic_form(rng):
    a = array((4, 4), np.float64, rng)
    x = array(4, np.float64, rng)
    np.testing.assert_allclose(wg.hessian(lambda x: np.dot(x, a @ x), x), a + a.T)
