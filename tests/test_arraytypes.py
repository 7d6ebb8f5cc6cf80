"""The table of array types: what counts as a constant, a scalar, a plain argument, and what
happens to an array type that no record knows (a clear error, never the gradient None)."""
import numpy as np
import pytest

import wengert as wg
from wengert import arraytypes


class DuckArray:
    """An array of some other library: NumPy's protocols, a dtype and a shape."""

    def __init__(self, data):
        self.data = np.asarray(data)
        self.dtype = self.data.dtype
        self.shape = self.data.shape

    def __array_function__(self, func, types, args, kwargs):
        return NotImplemented

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return NotImplemented


def test_numpy_is_registered_with_its_scalars():
    assert arraytypes.record_of(np.ones(2)) is arraytypes.NUMPY
    assert arraytypes.record_of(np.float32(1)) is arraytypes.NUMPY
    assert np.float32 in arraytypes.INEXACT_SCALARS and np.int64 not in arraytypes.INEXACT_SCALARS
    assert {np.ndarray, float, np.float64} <= arraytypes.CONSTANTS
    assert arraytypes.CONSTANTS <= arraytypes.ATOMS and str in arraytypes.ATOMS


def test_an_ndarray_subclass_finds_numpys_record():
    assert arraytypes.record_of(np.ones(2).view(np.matrix)) is arraytypes.NUMPY


@pytest.mark.parametrize("transform", [
    lambda f, x, d: wg.gradient(f, x, d),
    lambda f, x, d: wg.jacobian(f, x, d),
    lambda f, x, d: wg.jvp(f, (x, d), (np.ones(2), wg.Zero())),
], ids=["gradient", "jacobian", "jvp"])
def test_an_unregistered_array_type_is_a_clear_error_not_a_none_gradient(transform):
    f = lambda x, d: np.sum(x * d.data)   # noqa: E731
    with pytest.raises(wg.DifferentiationError, match="DuckArray.*np.asarray.*register_tree"):
        transform(f, np.ones(2), DuckArray([1.0, 2.0]))


def test_closing_over_it_is_the_way_out():
    d = DuckArray([1.0, 2.0])
    assert np.array_equal(wg.gradient(lambda x: np.sum(x * d.data), np.ones(2))[0], [1, 2])


def test_integer_arrays_and_other_plain_arguments_still_get_none():
    # in a structure, or given to pullback: None; as an explicit argument of gradient, an
    # integer array is an error naming it (tests/test_api.py)
    grads = wg.gradient(lambda x, m, s: np.sum(x) * len(s), np.ones(2), {"n": np.arange(3)}, "ab")
    assert grads[1]["n"] is None and grads[2] is None
    _, back = wg.pullback(lambda x, n: np.sum(x) * n.size, np.ones(2), np.arange(3))
    assert back(1.0)[1] is None


def test_a_registered_type_is_a_differentiable_leaf():
    # What a record makes known is traced like NumPy's arrays (its own rules and protocols
    # then carry it); here only the decision to trace is checked.
    from wengert.tree import is_differentiable

    record = arraytypes.ArrayType(DuckArray, scalars=(), in_place=False)
    saved = dict(arraytypes._records)
    try:
        arraytypes._records[DuckArray] = record
        assert is_differentiable(DuckArray([1.0])) is True
        assert is_differentiable(DuckArray([1])) is False
    finally:
        arraytypes._records.clear()
        arraytypes._records.update(saved)


# --- the selection mark: carried by the record, not known to the engine ----------------------

def test_numpy_marks_selected_zeros_with_a_free_view_that_users_never_see():
    ct = np.array([0.0, 2.0])
    marked = arraytypes.mark_selected(ct)
    assert type(marked) is arraytypes.NUMPY.selected and np.shares_memory(marked, ct)
    assert arraytypes.may_hold_selected_zeros(marked)
    assert not arraytypes.may_hold_selected_zeros(ct)
    assert type(arraytypes.without_mark(marked)) is np.ndarray
    # what a selection's pullback hands back is masked downstream: 0·∞ gives 0, not NaN
    (g,) = wg.gradient(lambda x: np.sum(np.where(x > -1, x, np.sqrt(x))), np.array([0.0, 1.0]))
    assert type(g) is np.ndarray
    np.testing.assert_array_equal(g, [1.0, 1.0])   # sqrt's pole at 0 was not selected


class _UnmarkedArray(np.ndarray):
    """An array type registered without a selection mark."""


def test_a_type_without_a_mark_has_every_cotangent_treated_as_selected():
    arraytypes.register_array_type(arraytypes.ArrayType(_UnmarkedArray))
    ct = np.array([0.0, 1.0]).view(_UnmarkedArray)
    assert arraytypes.mark_selected(ct) is ct   # nothing to mark it with
    assert arraytypes.may_hold_selected_zeros(ct)
    from wengert.partials import times_partial
    with np.errstate(divide="ignore"):
        g = times_partial(ct, lambda x, out: np.divide(1.0, x), (np.array([0.0, 1.0]),),
                          np.array([0.0, 1.0]), singular=False)
    np.testing.assert_array_equal(g, [0.0, 1.0])   # masked although no pole was declared
