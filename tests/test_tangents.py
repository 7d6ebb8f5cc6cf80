"""Property tests of the tangent algebra (wengert.tangents).

Values are small integers stored as floats (or complex numbers with integer parts), so every
sum is exact whatever the order of accumulation, and results are compared with ``==``.
"""
import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import wengert as wg
from wengert.tangents import (NO_TANGENT, ZERO, Indexed, NoTangent, OneHot, Zero, accumulate,
                              add, is_zero, scale, to_dense, zero_for_none, zeros_like)

settings.register_profile("wengert", max_examples=60, deadline=None)
settings.load_profile("wengert")

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
DTYPES = st.sampled_from([np.float64, np.float32, np.complex128])
SMALL_INTS = st.integers(-8, 8)


def integer_valued(shape, dtype):
    """Arrays of small integers in ``dtype``: sums of them are exact."""
    if np.dtype(dtype).kind == "c":
        return st.tuples(hnp.arrays(np.float64, shape, elements=SMALL_INTS.map(float)),
                         hnp.arrays(np.float64, shape, elements=SMALL_INTS.map(float))
                         ).map(lambda parts: (parts[0] + 1j * parts[1]).astype(dtype))
    return hnp.arrays(dtype, shape, elements=SMALL_INTS.map(float))


@st.composite
def indices(draw, shape):
    """An index into an array of ``shape``: basic (ints, slices, Ellipsis), integer arrays with
    repeated positions, or a boolean mask."""
    if shape == ():
        return draw(st.sampled_from([(), Ellipsis]))
    kind = draw(st.sampled_from(["ints", "basic", "repeats", "mask", "mixed"]))
    if kind == "ints":
        return tuple(draw(st.integers(-n, n - 1)) for n in shape)
    if kind == "basic":
        return tuple(draw(st.one_of(st.integers(-n, n - 1), st.slices(n)))
                     for n in shape[: draw(st.integers(1, len(shape)))])
    if kind == "repeats":
        return draw(hnp.arrays(np.intp, draw(st.integers(1, 6)),
                               elements=st.integers(-shape[0], shape[0] - 1)))
    if kind == "mask":
        return draw(hnp.arrays(np.bool_, shape))
    positions = draw(st.lists(st.integers(0, shape[-1] - 1), min_size=1, max_size=5))
    return (Ellipsis, positions)   # a slice of everything before, repeats in the last axis


@st.composite
def indexed(draw, shape, dtype):
    index = draw(indices(shape))
    selected_shape = np.zeros(shape)[index].shape
    # Values may broadcast against the selection, as a scalar cotangent of x[i] does.
    values_shape = draw(st.sampled_from([selected_shape, ()]))
    # Values in the primal's dtype, or real ones for a complex primal (a real cotangent is a
    # complex one with zero imaginary part); never complex values for a real primal.
    values_dtype = draw(st.sampled_from([dtype, np.float64]) if np.dtype(dtype).kind == "c"
                        else st.just(dtype))
    values = draw(integer_valued(values_shape, values_dtype))
    return Indexed(index, values, shape, dtype)


def one_hots(shape, dtype):
    return st.tuples(*[st.integers(0, n - 1) for n in shape]).map(
        lambda index: OneHot(index, shape, dtype))


def cotangents(shape, dtype):
    """Any cotangent of an array of ``shape``: dense, Indexed, OneHot or one of the zeros."""
    return st.one_of(
        integer_valued(shape, dtype),
        DTYPES.flatmap(lambda other: integer_valued(shape, other)),   # a mixed precision
        indexed(shape, dtype),
        one_hots(shape, dtype),
        st.sampled_from([ZERO, NO_TANGENT]),
    )


def reference_dense(t, shape):
    """What a cotangent stands for, computed with NumPy alone (np.add.at for every index);
    None is an empty slot of the walk."""
    if t is None or is_zero(t):
        return np.zeros(shape)
    if isinstance(t, Indexed):
        dense = np.zeros(shape, np.result_type(t.dtype, t.values.dtype))
        np.add.at(dense, t.index, t.values)
        return dense
    return t


def arrays_inside(t):
    if isinstance(t, Indexed):
        return [t.values]
    return [t] if isinstance(t, np.ndarray) else []


# ---------------------------------------------------------------------------------------------
# Zero and NoTangent
# ---------------------------------------------------------------------------------------------

def test_zero_and_no_tangent_are_singletons():
    assert Zero() is Zero() is ZERO is wg.Zero()
    assert NoTangent() is NoTangent() is NO_TANGENT is wg.NoTangent()
    for z in (ZERO, NO_TANGENT):
        assert copy.copy(z) is z and copy.deepcopy(z) is z
        assert pickle.loads(pickle.dumps(z)) is z
        assert not z


@given(SHAPES.flatmap(lambda s: DTYPES.flatmap(lambda d: cotangents(s, d))))
def test_zero_is_the_identity_of_add(t):
    for zero in (ZERO, NO_TANGENT):
        for result in (add(zero, t), add(t, zero), accumulate(zero, False, t)[0],
                       accumulate(t, False, zero)[0]):
            assert is_zero(result) if is_zero(t) else result is t
    # None: an empty slot of the walk, not a zero; a zero leaves it empty
    assert accumulate(None, False, t)[0] is (None if is_zero(t) else t)


def test_zero_plus_zero_is_zero():
    assert add(ZERO, ZERO) is ZERO
    assert accumulate(None, False, ZERO)[0] is None


@given(SHAPES.flatmap(lambda s: integer_valued(s, np.float64)), st.floats(-4, 4))
def test_zero_absorbs_scaling_and_products(x, s):
    assert scale(ZERO, s) is ZERO
    assert scale(ZERO, x) is ZERO
    assert ZERO * x is ZERO and ZERO * s is ZERO and s * ZERO is ZERO
    assert -ZERO is ZERO
    assert ZERO @ x is ZERO


@given(SHAPES.flatmap(lambda s: integer_valued(s, np.float64)))
def test_zero_in_arithmetic_with_arrays(x):
    """Zero() is the identity of + and - on either side, also with an ndarray on the left."""
    for result in (ZERO + x, x + ZERO, x - ZERO):
        assert isinstance(result, np.ndarray) and result.dtype == x.dtype
        np.testing.assert_array_equal(result, x)
    np.testing.assert_array_equal(ZERO - x, -x)
    assert x * ZERO is ZERO


def test_zeros_like():
    assert zeros_like(2.0) == 0.0 and type(zeros_like(2.0)) is float
    assert zeros_like(2j) == 0j and type(zeros_like(2j)) is complex
    z = zeros_like(np.ones((2, 3), np.float32))
    assert z.shape == (2, 3) and z.dtype == np.float32 and not z.any()


# ---------------------------------------------------------------------------------------------
# OneHot and Indexed
# ---------------------------------------------------------------------------------------------

@given(SHAPES.flatmap(lambda s: st.tuples(st.just(s), st.tuples(
    *[st.integers(0, n - 1) for n in s]))), st.sampled_from([np.float64, np.float32]))
def test_one_hot_to_dense_is_a_unit_basis_array(shape_and_index, dtype):
    shape, index = shape_and_index
    dense = OneHot(index, shape, dtype).to_dense()
    expected = np.zeros(shape, dtype)
    expected[index] = 1
    assert dense.shape == shape and dense.dtype == dtype
    np.testing.assert_array_equal(dense, expected)
    assert wg.OneHot(index, shape) == OneHot(index, shape)


@given(SHAPES.flatmap(lambda s: st.tuples(st.just(s), st.integers(0, int(np.prod(s)) - 1))))
def test_one_hot_with_one_integer_is_a_flat_position(shape_and_k):
    """One integer names one element (the k-th of x.flat), never a whole row."""
    shape, k = shape_and_k
    expected = np.zeros(shape)
    expected.flat[k] = 1
    np.testing.assert_array_equal(OneHot(k, shape).to_dense(), expected)


def test_one_hot_in_a_vector_accepts_negative_positions():
    np.testing.assert_array_equal(OneHot(-1, (3,)).to_dense(), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(OneHot(1, (3,)).to_dense(), [0.0, 1.0, 0.0])


@given(SHAPES.flatmap(lambda s: DTYPES.flatmap(lambda d: indexed(s, d))))
def test_indexed_to_dense_accumulates_repeated_positions(t):
    values_before = t.values.copy()
    dense = t.to_dense()
    np.testing.assert_array_equal(dense, reference_dense(t, t.shape))
    assert dense.shape == t.shape
    np.testing.assert_array_equal(t.values, values_before)


@given(SHAPES.flatmap(lambda s: DTYPES.flatmap(lambda d: indexed(s, d))), SMALL_INTS)
def test_scale_of_indexed_stays_sparse(t, s):
    scaled = scale(t, s)
    assert isinstance(scaled, Indexed)
    np.testing.assert_array_equal(to_dense(scaled), s * reference_dense(t, t.shape))


# ---------------------------------------------------------------------------------------------
# Accumulation: exact, in any order, and never writing into an array it does not own
# ---------------------------------------------------------------------------------------------

@st.composite
def accumulation_problems(draw):
    shape = draw(SHAPES)
    dtype = draw(DTYPES)
    items = draw(st.lists(cotangents(shape, dtype), min_size=1, max_size=8))
    initial = draw(st.one_of(st.none(), integer_valued(shape, dtype), indexed(shape, dtype)))
    initially_owned = draw(st.booleans()) and isinstance(initial, np.ndarray)
    return shape, items, initial, initially_owned


@given(accumulation_problems())
def test_accumulate_equals_the_dense_sum(problem):
    shape, items, initial, initially_owned = problem
    expected = reference_dense(initial, shape)
    for g in items:
        expected = expected + reference_dense(g, shape)
    # An owned initial slot may be updated in place: hand over a copy, keep the original.
    foreign = [a for t in items + [initial] for a in arrays_inside(t)]
    if initially_owned:
        foreign = [a for a in foreign if a is not initial]
        initial = initial.copy()
    snapshots = [a.copy() for a in foreign]

    slot, owned = initial, initially_owned
    for g in items:
        slot, owned = accumulate(slot, owned, g)

    np.testing.assert_array_equal(reference_dense(to_dense(slot), shape), expected)
    assert np.shape(to_dense(slot)) == shape or slot is None or is_zero(slot)   # None: empty
    for a, before in zip(foreign, snapshots):          # nothing it did not own was written
        np.testing.assert_array_equal(a, before)
        assert a.dtype == before.dtype
    if owned:                                          # an owned slot is nobody else's array
        assert isinstance(slot, np.ndarray)
        assert not any(np.shares_memory(slot, a) for a in foreign)


def test_accumulate_never_writes_into_a_gradient_it_was_given():
    g = np.ones(3)
    slot, owned = accumulate(None, False, g)
    assert slot is g and not owned
    slot, owned = accumulate(slot, owned, np.ones(3))
    slot, owned = accumulate(slot, owned, OneHot(1, (3,)))
    slot, owned = accumulate(slot, owned, Indexed([0, 0], np.array([1.0, 1.0]), (3,), float))
    np.testing.assert_array_equal(g, np.ones(3))
    np.testing.assert_array_equal(slot, [4.0, 3.0, 2.0])


def test_accumulate_keeps_the_imaginary_part():
    slot, owned = accumulate(np.zeros(2), True, Indexed(0, np.array(1j), (2,), complex))
    slot, owned = accumulate(slot, owned, np.array([1.0, 2.0]))
    slot, owned = accumulate(slot, owned, np.array([0.0, 1j]))
    np.testing.assert_array_equal(slot, [1.0 + 1j, 2.0 + 1j])


def test_accumulate_in_a_backward_pass_leaves_the_seed_alone():
    """End to end: the cotangent handed to back() is never written into."""
    x = np.arange(3.0)
    seed = np.array([1.0, 2.0, 3.0])
    _, back = wg.pullback(lambda x: x + x * 2.0 + x[0] + x[::-1], x)
    (g,) = back(seed)
    np.testing.assert_array_equal(seed, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(g, 3.0 * seed + seed[::-1] + [6.0, 0.0, 0.0])


# ---------------------------------------------------------------------------------------------
# Tuples (the cotangent of a multi-output call)
# ---------------------------------------------------------------------------------------------

@given(SHAPES.flatmap(lambda s: st.tuples(integer_valued(s, np.float64),
                                          integer_valued(s, np.float64),
                                          indexed(s, np.float64))))
def test_add_of_tuples_is_elementwise(parts):
    a, b, c = parts
    before = [a.copy(), b.copy(), c.values.copy()]
    shape = a.shape
    total = add((a, ZERO, c), (b, c, ZERO))
    assert type(total) is tuple and len(total) == 3
    np.testing.assert_array_equal(total[0], a + b)
    np.testing.assert_array_equal(to_dense(total[1]), reference_dense(c, shape))
    np.testing.assert_array_equal(to_dense(total[2]), reference_dense(c, shape))
    nested = add(((a, ZERO), b), ((ZERO, a), c))
    np.testing.assert_array_equal(nested[0][0], a)
    np.testing.assert_array_equal(nested[0][1], a)
    np.testing.assert_array_equal(to_dense(nested[1]), b + reference_dense(c, shape))
    for arr, old in zip([a, b, c.values], before):    # add is functional
        np.testing.assert_array_equal(arr, old)
    slot, _ = accumulate((a, ZERO), False, (ZERO, b))
    assert slot[0] is a and slot[1] is b


def test_to_dense_and_scale_of_tuples():
    t = (OneHot(1, (3,)), ZERO, np.ones(2))
    dense = to_dense(t)
    np.testing.assert_array_equal(dense[0], [0.0, 1.0, 0.0])
    assert dense[1] is ZERO
    scaled = scale(t, 2.0)
    np.testing.assert_array_equal(to_dense(scaled[0]), [0.0, 2.0, 0.0])
    assert scaled[1] is ZERO
    np.testing.assert_array_equal(scaled[2], [2.0, 2.0])


@pytest.mark.parametrize("t", [ZERO, NO_TANGENT])
def test_is_zero(t):
    assert is_zero(t)


def test_none_is_not_a_zero_inside_but_reads_as_one_where_users_hand_it_in():
    assert not is_zero(None)
    assert zero_for_none(None) is ZERO
    x = np.ones(2)
    assert zero_for_none(x) is x


@pytest.mark.parametrize("t", [0.0, np.zeros(3), OneHot(0, (1,)), ()])
def test_numbers_that_happen_to_be_zero_are_not_structural_zeros(t):
    assert not is_zero(t)


# ---------------------------------------------------------------------------------------------
# The arithmetic forward mode does on sparse tangents: add, scale, to_dense
# ---------------------------------------------------------------------------------------------

@st.composite
def indexed_pairs(draw, same_index):
    """Two Indexed tangents of one primal: at the same index (the two partials of x·x along a
    OneHot) or at independent ones."""
    shape = draw(SHAPES)
    dtype = draw(DTYPES)
    a = draw(indexed(shape, dtype))
    if not same_index:
        return a, draw(indexed(shape, dtype))
    selected_shape = np.zeros(shape)[a.index].shape
    values = draw(integer_valued(draw(st.sampled_from([selected_shape, ()])), dtype))
    return a, Indexed(a.index, values, shape, dtype)


def assert_sum(result, a, b):
    expected = reference_dense(a, a.shape) + reference_dense(b, a.shape)
    dense = to_dense(result)
    np.testing.assert_array_equal(dense, expected)
    assert dense.shape == expected.shape and dense.dtype == expected.dtype


@given(indexed_pairs(same_index=True))
def test_add_of_indexed_at_the_same_index_stays_sparse(pair):
    a, b = pair
    before = [a.values.copy(), b.values.copy()]
    for result in (add(a, b), add(b, a)):
        assert isinstance(result, Indexed) and result.index is a.index
        assert_sum(result, a, b)
    np.testing.assert_array_equal(a.values, before[0])   # functional
    np.testing.assert_array_equal(b.values, before[1])


@given(SHAPES.filter(lambda s: s != ()).flatmap(
    lambda s: st.tuples(one_hots(s, np.float64), SMALL_INTS, SMALL_INTS)))
def test_add_of_one_hots_at_an_equal_position_stays_sparse(problem):
    """The same position as another tuple object (two OneHots built apart) is recognised."""
    unit, p, q = problem
    twin = OneHot(tuple(unit.index), unit.shape)
    total = add(scale(unit, p), scale(twin, q))
    assert isinstance(total, Indexed)
    np.testing.assert_array_equal(to_dense(total), (p + q) * unit.to_dense())


@given(indexed_pairs(same_index=False))
def test_add_of_indexed_at_different_indices(pair):
    a, b = pair
    before = [a.values.copy(), b.values.copy()]
    assert_sum(add(a, b), a, b)
    assert_sum(add(b, a), b, a)
    np.testing.assert_array_equal(a.values, before[0])
    np.testing.assert_array_equal(b.values, before[1])


def test_add_of_indexed_at_different_positions_is_dense():
    total = add(OneHot(0, (3,)), OneHot(2, (3,)))
    assert isinstance(total, np.ndarray)
    np.testing.assert_array_equal(total, [1.0, 0.0, 1.0])
    total = add(OneHot((0, 1), (2, 2)), OneHot((1, 1), (2, 2)))
    np.testing.assert_array_equal(total, [[0.0, 1.0], [0.0, 1.0]])


@given(SHAPES.flatmap(lambda s: DTYPES.flatmap(lambda d: st.tuples(
    indexed(s, d), DTYPES.flatmap(lambda other: integer_valued(s, other))))))
def test_add_of_indexed_and_dense(problem):
    t, x = problem
    x_before = x.copy()
    for result in (add(t, x), add(x, t)):
        assert_sum(result, t, x)
        assert isinstance(result, np.ndarray)
        assert not np.shares_memory(result, x)   # a fresh array: x may be a caller's
    np.testing.assert_array_equal(x, x_before)
    read_only = np.broadcast_to(x, x.shape)      # a broadcast tangent cannot be written
    assert_sum(add(t, read_only), t, x)


@given(SHAPES.flatmap(lambda s: DTYPES.flatmap(lambda d: indexed(s, d))),
       st.one_of(SMALL_INTS, SMALL_INTS.map(float), SMALL_INTS.map(lambda k: complex(k, 1))))
def test_scale_of_indexed_by_any_number(t, s):
    """A complex factor makes the tangent complex, in its dtype too."""
    scaled = scale(t, s)
    assert isinstance(scaled, Indexed) and scaled.index is t.index
    dense = to_dense(scaled)
    np.testing.assert_array_equal(dense, s * reference_dense(t, t.shape))
    assert scaled.dtype == dense.dtype


@given(SHAPES.flatmap(lambda s: integer_valued(s, np.float32)), SMALL_INTS)
def test_scale_of_dense_keeps_precision(x, s):
    scaled = scale(x, s)
    np.testing.assert_array_equal(scaled, s * x)
    assert scaled.dtype == np.float32


@given(SHAPES.flatmap(lambda s: DTYPES.flatmap(lambda d: cotangents(s, d))))
def test_zero_identities_of_add_and_scale(t):
    """Zero is absorbing for scale and neutral for add, in every combination forward mode
    meets; scaling by 1 changes nothing."""
    for zero in (ZERO, NO_TANGENT):
        assert scale(zero, 3.0) is ZERO
        for result in (add(zero, t), add(t, zero)):
            assert is_zero(result) if is_zero(t) else result is t
    if not is_zero(t):
        np.testing.assert_array_equal(to_dense(scale(t, 1)), to_dense(t))
        assert type(scale(t, 2)) is not OneHot   # 2·e_i is no longer a unit tangent


ONE_HOT_CASES = [
    # index, shape, the element that holds the 1
    (0, (), ()),
    ((), (), ()),
    (-1, (), ()),
    (2, (4,), (2,)),
    (-1, (4,), (3,)),
    ((2,), (4,), (2,)),
    ((-4,), (4,), (0,)),
    (np.int64(3), (4,), (3,)),
    (4, (2, 3), (1, 1)),          # one integer: the flat position, never a whole row
    (-1, (2, 3), (1, 2)),
    ((1, 0), (2, 3), (1, 0)),
    ((-1, -3), (2, 3), (1, 0)),
    ([0, 2], (2, 3), (0, 2)),
    (np.array([1, 1]), (2, 3), (1, 1)),
    ((np.int64(1), np.int32(2)), (2, 3), (1, 2)),
]


@pytest.mark.parametrize("index, shape, position", ONE_HOT_CASES,
                         ids=[f"{i!r} in {s}" for i, s, _ in ONE_HOT_CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_one_hot_positions(index, shape, position, dtype):
    unit = OneHot(index, shape, dtype)
    assert unit.index == position and all(type(p) is int for p in unit.index)
    expected = np.zeros(shape, dtype)
    expected[position] = 1
    dense = to_dense(unit)
    np.testing.assert_array_equal(dense, expected)
    assert dense.shape == shape and dense.dtype == dtype
    assert unit == OneHot(position, shape)
    np.testing.assert_array_equal(to_dense(add(unit, unit)), 2 * expected)
    np.testing.assert_array_equal(to_dense(add(unit, np.ones(shape))), expected + 1)
    np.testing.assert_array_equal(to_dense(scale(unit, -3.0)), -3 * expected)


@pytest.mark.parametrize("index, shape", [
    (3, ()), (1, ()), (4, (4,)), (-5, (4,)), (6, (2, 3)), ((2,), (2, 3)), ((0, 3), (2, 3)),
    ((1, 1, 1), (2, 3)), ((0,), ()),
], ids=repr)
def test_one_hot_out_of_range_raises(index, shape):
    """A position outside the array (or one integer per axis missing) is an error, not a
    wrapped-around or whole-row tangent."""
    with pytest.raises(IndexError):
        OneHot(index, shape)
