"""Writes into an array that nothing else refers to are made in place: a loop of n writes
costs O(n) in all, forward and backward, and gives the numbers the copying way (and a
list with np.stack) gives. Where something saved the array, the write copies it first, so
every derivative sees the values it was computed from."""
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_grads

BOTH = ("reverse", "forward")
H = 0.1

# Where reference counts cannot be trusted, every write copies (see core/aliasing.py).
COUNTED = pytest.mark.skipif(
    sys.version_info >= (3, 14) or sys.implementation.name != "cpython",
    reason="writes are made in place only where CPython's reference counts are exact")
# The call counter below runs under sys.setprofile, which on Python 3.10 adds a reference to
# the arrays a C function is called with: every write would then look shared and copy.
PROFILED = pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="sys.setprofile changes reference counts on Python 3.10 (see the buffer test)")


# ---------------------------------------------------------------------------------------------
# One recurrence written three ways
# ---------------------------------------------------------------------------------------------

def written(y0, a, n=6):
    """y[i] = y[i-1] + h·sin(y[i-1])·a into one array, read back as it goes."""
    y = np.zeros(n) * a
    y[0] = y0
    for i in range(1, n):
        y[i] = y[i - 1] + H * np.sin(y[i - 1]) * a
    return np.sum(y * y)


def stacked(y0, a, n=6):
    """The same values built in a list and stacked once."""
    ys = [y0 * np.ones(())]
    for _ in range(1, n):
        ys.append(ys[-1] + H * np.sin(ys[-1]) * a)
    y = np.stack(ys)
    return np.sum(y * y)


def written_vector(x):
    """Writes of rows, slices and single elements into a matrix, reading back between."""
    y = np.zeros((3, 4)) * x[0]
    y[0] = x
    y[1, 1:] = np.cos(y[0, :3]) * x[1:]
    y[2] = y[1] * y[0] + 1.0
    y[2, ::2] += np.sin(y[2, 1::2])
    y[:, 0] = y[:, 3] ** 2
    return np.sum(np.tanh(y) * y)


POINT = (np.array(0.4), np.array(1.3))


def test_the_loop_matches_the_stacked_version_in_both_modes():
    got, want = wg.gradient(written, *POINT), wg.gradient(stacked, *POINT)
    assert len(got) == len(want) == 2
    np.testing.assert_allclose(got, want, rtol=1e-13)
    for k in range(2):
        t = [np.zeros(()), np.zeros(())]
        t[k] = np.ones(())
        got = wg.jvp(written, POINT, tuple(t))
        want = wg.jvp(stacked, POINT, tuple(t))
        np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("f", [written, stacked])
def test_the_loop_against_finite_differences_to_second_order(f):
    check_grads(f, *POINT, modes=BOTH, order=2)


def test_hessians_of_the_loop_match_the_stacked_version_in_all_nestings():
    def pair(f):
        return lambda v: f(v[0], v[1])

    v = np.array([0.4, 1.3])
    want = wg.hessian(pair(stacked), v)
    np.testing.assert_allclose(wg.hessian(pair(written), v), want, rtol=1e-12)
    F = pair(written)
    e = np.eye(2)

    def grad(w):
        return wg.gradient(F, w)[0]

    def slope(w, k):
        return wg.jvp(F, (w,), (e[k],))[1]

    for k in range(2):
        row = want[k]
        np.testing.assert_allclose(wg.gradient(lambda w: grad(w)[k], v)[0], row, rtol=1e-12)
        np.testing.assert_allclose(wg.jvp(grad, (v,), (e[k],))[1], row, rtol=1e-12)
        np.testing.assert_allclose(wg.gradient(lambda w: slope(w, k), v)[0], row, rtol=1e-12)
        for j in range(2):
            got = wg.jvp(lambda w: slope(w, k), (v,), (e[j],))[1]
            np.testing.assert_allclose(got, row[j], rtol=1e-12)


def test_writes_of_rows_slices_and_elements_in_place():
    x = np.array([0.3, -0.8, 1.2, 0.5])
    check_grads(written_vector, x, modes=BOTH, order=2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_dtypes_of_the_written_array(dtype):
    def f(x):
        y = np.zeros_like(x)
        for i in range(1, 4):
            y[i] = y[i - 1] * x[i] + x[i - 1]
        return np.sum(y * np.conj(y)).real

    x = np.array([0.5, -1.0, 2.0, 0.25], dtype=dtype)
    if dtype == np.complex128:
        x = x + 0.5j * x[::-1]
    check_grads(f, x, modes=BOTH)


def test_checkpoint_forwarddiff_and_params_through_in_place_writes():
    def loop(x):
        y = np.zeros_like(x)
        for i in range(1, len(x)):
            y[i] = y[i - 1] + np.sin(x[i]) * x[i - 1]
        return np.sum(y ** 2)

    x = np.linspace(0.2, 1.4, 7)
    kept = x.copy()
    g = wg.gradient(loop, x)[0]
    np.testing.assert_allclose(wg.gradient(wg.checkpoint(loop), x)[0], g, rtol=1e-13)
    np.testing.assert_allclose(wg.gradient(lambda v: wg.forwarddiff(loop, v), x)[0], g,
                               rtol=1e-13)
    grads = wg.gradient(lambda: loop(x), wg.Params([x]))
    np.testing.assert_allclose(grads[x], g, rtol=1e-13)
    np.testing.assert_array_equal(x, kept)


def test_a_pullback_called_again_gives_the_same_cotangents():
    x = np.linspace(0.2, 1.4, 5)

    def f(x):
        y = np.zeros_like(x)
        for i in range(len(x)):
            y[i] = np.exp(x[i]) * (y[i - 1] if i else 1.0)
        return y

    out, back = wg.pullback(f, x)
    seed = np.arange(1.0, 6.0)
    first = back(seed)[0]
    np.testing.assert_array_equal(back(seed)[0], first)
    np.testing.assert_array_equal(seed, np.arange(1.0, 6.0))   # the seed is never written
    check_grads(f, x, modes=BOTH)


# ---------------------------------------------------------------------------------------------
# A value saved for a derivative, overwritten afterwards (PyTorch raises here)
# ---------------------------------------------------------------------------------------------

def _saved_then_overwritten(save):
    def f(x):
        y = x * 1.0
        y[0] = 2.0 * x[1]            # y's array is now the tracer's own
        saved = save(y)              # a step that keeps y's values for its derivative
        y[1] = 7.0 * x[0]            # overwritten after use
        y[2] *= x[2]
        return np.sum(saved) + np.sum(y ** 3)

    return f


SAVERS = {
    "exp (keeps its output's input)": np.exp,
    "product with itself": lambda y: y * y,
    "a row read": lambda y: y[1:] * 1.0,
    "matmul": lambda y: y @ np.arange(3.0) * y,
    "sort": lambda y: np.sort(y) ** 2,
    "a user's primitive": lambda y: _cube(y),
    "stop_gradient": lambda y: wg.stop_gradient(y) * y,
}


@wg.primitive
def _cube(y):
    return y ** 3


@wg.rrule(_cube)
def _cube_rule(y):
    def pullback(ct):
        return (3.0 * y ** 2 * ct,)   # reads y, kept by reference

    return y ** 3, pullback


@pytest.mark.parametrize("name", list(SAVERS))
def test_a_saved_value_overwritten_later_keeps_the_value_it_saw(name):
    f = _saved_then_overwritten(SAVERS[name])
    x = np.array([0.3, -0.6, 0.9])

    def copied(save):
        def g(x):
            y = x * 1.0
            y[0] = 2.0 * x[1]
            saved = save(y.copy())   # what the saving step must see, held apart
            y[1] = 7.0 * x[0]
            y[2] *= x[2]
            return np.sum(saved) + np.sum(y ** 3)

        return g

    np.testing.assert_allclose(wg.gradient(f, x)[0], wg.gradient(copied(SAVERS[name]), x)[0],
                               rtol=1e-13)
    if name != "stop_gradient":   # finite differences see through stop_gradient
        check_grads(f, x, modes=("reverse",) if name == "a user's primitive" else BOTH)


def test_a_view_taken_before_an_in_place_write_is_still_refused():
    def f(x):
        y = np.zeros_like(x)
        y[0] = x[0]
        top = y[:2]
        y[1] = x[1]
        return np.sum(top)

    with pytest.raises(wg.DifferentiationError, match="written afterwards"):
        wg.gradient(f, np.ones(3))


def test_a_view_that_died_leaves_the_array_to_write_in_place():
    def f(x):
        y = np.zeros_like(x)
        for i in range(len(x)):
            s = np.sum(y[:i + 1])    # a view, gone before the next write
            y[i] = x[i] + s
        return np.sum(y)

    check_grads(f, np.array([0.5, 1.5, -0.5, 2.0]), modes=BOTH)


@pytest.mark.parametrize("start", ["product", "zeros_like", "increments"])
def test_every_way_of_starting_the_loop_against_finite_differences(start):
    check_grads(_loop(5, start=start), *POINT, modes=BOTH, order=2)
    check_grads(_loop(5, save_each=True, start=start), *POINT, modes=BOTH)


def test_a_row_written_twice_writes_its_matrix_each_time():
    def f(x):
        m = np.zeros((3, 4)) * x[0]
        row = m[1]
        row[2] = x[1]              # a view of m: m is copied, row gets an array of its own
        row[3] = x[2] * row[2]     # written again, and m with it
        s = np.sum(row)
        m[0] = m[1] * 2.0          # row goes stale here
        return np.sum(m * m) + s

    x = np.array([0.3, -0.7, 1.1])
    check_grads(f, x, modes=BOTH, order=2)
    np.testing.assert_allclose(wg.gradient(f, x)[0][1:],
                               [10 * x[1] + 10 * x[1] * x[2] ** 2 + 1 + x[2],
                                10 * x[1] ** 2 * x[2] + x[1]])


def test_writes_never_reach_the_callers_array_or_seed():
    x = np.array([1.0, 2.0, 3.0])

    def f(x):
        for i in range(1, 3):
            x[i] = x[i - 1] * x[i]
        return x

    kept = x.copy()
    out, back = wg.pullback(f, x)
    g = back(np.ones(3))[0]
    np.testing.assert_array_equal(x, kept)
    np.testing.assert_allclose(out, [1.0, 2.0, 6.0])
    np.testing.assert_allclose(g, [1.0 + 2.0 + 6.0, 1.0 + 3.0, 2.0])
    t = np.array([1.0, 0.0, 0.0])
    kept_t = t.copy()
    wg.jvp(f, (x,), (t,))
    np.testing.assert_array_equal(t, kept_t)
    np.testing.assert_array_equal(x, kept)


def test_a_sparse_tangent_is_written_into_as_a_dense_one():
    def f(x):
        y = np.zeros_like(x)
        for i in range(1, len(x)):
            y[i] = y[i - 1] + x[i] ** 2
        return y

    x = np.array([0.5, 1.0, -2.0, 3.0])
    for k in range(4):
        np.testing.assert_allclose(wg.jvp(f, (x,), (wg.OneHot(k, (4,)),))[1],
                                   wg.jvp(f, (x,), (np.eye(4)[k],))[1])


# ---------------------------------------------------------------------------------------------
# Cost: counted, never timed
# ---------------------------------------------------------------------------------------------

_ALLOCATING = {"copy", "array", "zeros", "zeros_like", "empty", "empty_like", "full",
               "full_like", "ones", "ones_like", "copyto", "concatenate", "stack"}


def _allocating_calls(fn):
    """How many array-making NumPy calls ``fn()`` makes (NumPy's own functions and methods,
    seen as calls of C functions from Python), whatever their size."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "c_call" and getattr(arg, "__name__", None) in _ALLOCATING:
            count += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def _loop(n, save_each=False, start="product"):
    def f(x0, a):
        if start == "product":
            y = np.zeros(n) * a              # carries a (zero) derivative of a
        else:
            y = np.zeros_like(a * np.ones(n))   # depends on nothing: no tangent yet
        y[0] = x0
        saved = []
        for i in range(1, n):
            if start == "increments":
                y[i] += y[i - 1]
                y[i] += H * np.sin(y[i - 1]) * a
            else:
                y[i] = y[i - 1] + H * np.sin(y[i - 1]) * a
            if save_each:
                saved.append(np.exp(y))   # keeps y's values: the next write must copy
        return np.sum(y * y) + sum(np.sum(s) for s in saved)

    return f


@COUNTED
@PROFILED
@pytest.mark.parametrize("start", ["product", "zeros_like", "increments"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_loop_of_writes_allocates_no_array_per_write(mode, start):
    def run(n):
        if mode == "reverse":
            return lambda: wg.gradient(_loop(n, start=start), *POINT)
        return lambda: wg.jvp(_loop(n, start=start), POINT, (np.ones(()), np.zeros(())))

    counts = [_allocating_calls(run(n)) for n in (100, 200, 400)]
    assert counts[0] == counts[1] == counts[2], counts


def test_the_counter_sees_a_copy_per_write_where_one_is_needed():
    counts = [_allocating_calls(lambda: wg.gradient(_loop(n, save_each=True), *POINT))
              for n in (20, 40)]
    assert counts[1] - counts[0] >= 20, counts


@COUNTED
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_memory_of_a_loop_that_reads_back_grows_linearly(mode):
    def peak(n):
        tracemalloc.start()
        try:
            if mode == "reverse":
                wg.gradient(_loop(n), *POINT)
            else:
                wg.jvp(_loop(n), POINT, (np.ones(()), np.zeros(())))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(1500), peak(3000)
    # A copy kept per write would make it O(n²): four times the memory for twice the n.
    assert large < 2.6 * small, (small, large)


@COUNTED
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_loop_of_writes_keeps_writing_into_the_same_arrays(mode):
    # The in-place path seen without a profiler (every Python version): after the first
    # write (which copies: the product that made y is saved by its step), each write goes
    # into the same value (and tangent) arrays. Weak references do not count as references,
    # and a copy would let the old array die.
    kept, same = [], []

    def f(x0, a):
        y = np.zeros(30) * a
        y[0] = x0
        for i in range(1, 30):
            y[i] = y[i - 1] + H * np.sin(y[i - 1]) * a
            kept.append([weakref.ref(y._value)]
                        + ([weakref.ref(y._tangent)] if mode == "forward" else []))
        now = [y._value] + ([y._tangent] if mode == "forward" else [])
        same.extend(all(ref() is array for ref, array in zip(refs, now)) for refs in kept)
        return np.sum(y * y)

    if mode == "reverse":
        wg.gradient(f, *POINT)
    else:
        wg.jvp(f, POINT, (np.ones(()), np.zeros(())))
    assert len(same) == 29 and all(same), same
