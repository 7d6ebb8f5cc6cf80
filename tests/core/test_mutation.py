"""Writes into traced arrays: x[i] = v, x += v, out=x, arrays made to be written into, and
the views that must never be silently wrong."""
import copy

import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_grads

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4))
BOTH = ("reverse", "forward")

# Every kind of NumPy index, on a (3, 4) array.
INDICES = {
    "int": 1,
    "negative int": -1,
    "two ints": (1, 2),
    "slice with step": slice(None, None, 2),
    "negative step": (slice(None), slice(None, None, -2)),
    "ellipsis": (Ellipsis, 1),
    "newaxis": (None, 1),
    "int array": np.array([0, 2]),
    "repeated ints": np.array([0, 2, 0]),
    "boolean rows": np.array([True, False, True]),
    "boolean mask": X > 0,
    "array and slice": (np.array([0, 2]), slice(1, 3)),
    "repeated columns": (slice(None), [1, 3, 1]),
    "two arrays": (np.array([0, 1, 0]), np.array([2, 2, 2])),
}


def _read_shape(index):
    return np.zeros((3, 4))[index].shape


def _writes(index, kind):
    """f(x, w): x[index] = something made from w (traced, broadcast), or plain."""
    shape = _read_shape(index)

    def traced(x, w):
        x = x * 1.5
        x[index] = np.sin(w)
        return np.tanh(x) * x

    def broadcast(x, w):
        x = x * 1.5
        x[index] = np.sin(w[..., :1])   # one value along the last axis, broadcast
        return np.tanh(x) * x

    def plain(x, w):
        x = x * w.sum()
        x[index] = 0.25
        return np.tanh(x) * x

    def plain_list(x, w):
        x = x * w.sum()
        x[index] = [0.5] * (shape[-1] if shape else 1) if shape else 0.5
        return np.tanh(x) * x

    w = RNG.normal(size=shape if kind != "broadcast" else shape[:-1] + (2,))
    return {"traced": traced, "broadcast": broadcast, "plain": plain,
            "list": plain_list}[kind], w


@pytest.mark.parametrize("kind", ["traced", "broadcast", "plain", "list"])
@pytest.mark.parametrize("name", list(INDICES))
def test_every_index_kind(name, kind):
    index = INDICES[name]
    if kind == "broadcast" and not _read_shape(index):
        pytest.skip("a single element has no axis to broadcast along")
    f, w = _writes(index, kind)
    check_grads(f, X, w, modes=BOTH)


def test_repeated_indices_keep_the_last_write():
    def f(x, w):
        x = x * 1.0
        x[[0, 2, 0]] = w   # NumPy keeps w[2] at position 0; w[0] reaches nothing
        return x

    w = np.array([1.0, 2.0, 3.0])
    y, back = wg.pullback(f, np.zeros(3), w)
    np.testing.assert_array_equal(y, [3.0, 0.0, 2.0])
    gx, gw = back(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(gx, [0.0, 20.0, 0.0])
    np.testing.assert_array_equal(gw, [0.0, 30.0, 10.0])


@pytest.mark.parametrize("name", ["slice with step", "repeated ints", "boolean mask", "int"])
def test_second_derivatives_in_four_nestings(name):
    index = INDICES[name]
    f, w = _writes(index, "traced")

    def loss(x, w):
        return np.sum(f(x, w) ** 2)

    # reverse over reverse, forward over reverse
    check_grads(loss, X, w, modes=BOTH, order=2)
    # reverse over forward, forward over forward
    dx, dw = RNG.normal(size=X.shape), RNG.normal(size=w.shape)

    def directional(x, w):
        return wg.jvp(loss, (x, w), (dx, dw))[1]

    check_grads(directional, X, w, modes=BOTH)


IN_PLACE = {
    "+=": lambda x, v: x.__iadd__(v),
    "-=": lambda x, v: x.__isub__(v),
    "*=": lambda x, v: x.__imul__(v),
    "/=": lambda x, v: x.__itruediv__(v),
    "**=": lambda x, v: x.__ipow__(v),
}


@pytest.mark.parametrize("op", list(IN_PLACE))
def test_in_place_operators(op):
    def f(x, v):
        y = x + 2.0
        alias = y
        result = IN_PLACE[op](y, v)
        assert result is alias   # the same object, written
        return alias * np.cos(x)

    check_grads(f, X, 0.5 + RNG.random(4), modes=BOTH)


def test_in_place_on_index_and_other_operators():
    def f(x, m):
        y = x * 1.0
        y[1:] += np.sin(x[:-1])
        y[:, ::2] *= 2.0
        y[[0, 0, 2]] -= 1.0      # as in NumPy: position 0 is decremented once
        y[0] /= 3.0
        y @= m
        y //= 1000.0             # no derivative, but the value is NumPy's
        y += x @ m
        return y

    m = RNG.normal(size=(4, 4))
    check_grads(f, X, m, modes=BOTH)
    traced = wg.pullback(f, X, m)[0]
    np.testing.assert_allclose(traced, f(X.copy(), m))


def test_in_place_keeps_dtype_and_refuses_what_numpy_refuses():
    def f(x):
        y = x * 1
        y += 1.0                  # a float64 scalar into a float32 array: float32 stays
        assert y.dtype == np.float32
        y += np.ones((2, 3))      # cannot broadcast into y's shape, as in NumPy
        return y

    with pytest.raises(ValueError):
        wg.gradient(lambda x: np.sum(f(x)), np.ones(3, np.float32))
    with pytest.raises(TypeError):
        wg.gradient(lambda x: np.sum(np.real(x.__iadd__(1j * x))), np.ones(3))


def test_aliases_see_the_write():
    def f(x):
        y = x
        y[0] = 5.0 * x[1]
        assert x is y
        return x

    y, back = wg.pullback(f, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(y, [10.0, 2.0, 3.0])
    np.testing.assert_array_equal(back(np.ones(3))[0], [0.0, 6.0, 1.0])


def test_a_write_through_a_basic_view_reaches_its_base():
    def f(x):
        y = x * 1.0
        row = y[1]
        row[2] = x[0, 0] ** 2      # y sees it, as in NumPy
        y[0][1] = 7.0              # the common spelling of y[0, 1] = 7
        middle = y[:, 1:3]
        middle += 1.0
        np.testing.assert_array_equal(wg.stop_gradient(middle), wg.stop_gradient(y)[:, 1:3])
        return y * y[1, 0]         # row would refuse: y was written since (stale)

    check_grads(f, X, modes=BOTH)
    expected = X.copy()
    expected[1, 2] = X[0, 0] ** 2
    expected[0, 1] = 7.0
    expected[:, 1:3] += 1.0
    np.testing.assert_allclose(wg.pullback(f, X)[0], expected * expected[1, 0])


@pytest.mark.parametrize("make", [
    lambda y: y.reshape(4, 3), lambda y: y.T, lambda y: np.ravel(y), lambda y: y[..., None].T,
    lambda y: np.swapaxes(y, 0, 1), lambda y: np.expand_dims(y, 0), lambda y: y.real,
    lambda y: np.broadcast_to(y, (2, 3, 4)), lambda y: y.diagonal(),
], ids=["reshape", "T", "ravel", "basic then T", "swapaxes", "expand_dims", "real",
        "broadcast_to", "diagonal"])
@pytest.mark.parametrize("transform", ["gradient", "jvp"])
def test_views_refuse_writes_and_go_stale(make, transform):
    run = ((lambda f: wg.gradient(lambda x: np.sum(f(x)), X)) if transform == "gradient"
           else (lambda f: wg.jvp(f, (X,), (np.ones_like(X),))))

    def write_into_view(x):
        v = make(x * 1.0)
        v[0] = 1.0
        return v

    with pytest.raises(wg.DifferentiationError, match="copy"):
        run(write_into_view)

    def use_after_write(x):
        y = x * 1.0
        v = make(y)
        y[0, 0] = 3.0
        return v * 2.0

    with pytest.raises(wg.DifferentiationError, match=r"written afterwards \(x\[i\] = v\)"):
        run(use_after_write)


def test_stale_views_refuse_everything():
    seen = []

    def f(x):
        y = x * 1.0
        view = y[1:]
        inner = view[0]        # a view of a view
        t = y.T
        y += 1.0
        for use in (lambda: view + 1, lambda: 1 + view, lambda: np.sin(view),
                    lambda: np.sum(view), lambda: view.shape, lambda: float(inner[0]),
                    lambda: bool(view[0, 0] > 0), lambda: view[0], lambda: len(t),
                    lambda: inner * 2, lambda: view.__setitem__(0, 1.0),
                    lambda: np.asarray(t), lambda: y[0] * view):
            with pytest.raises(wg.DifferentiationError, match="written afterwards"):
                use()
            seen.append(use)
        assert "stale" in repr(view)
        return y

    wg.gradient(lambda x: np.sum(f(x)), X)
    assert len(seen) == 13


def test_copies_are_independent():
    def f(x):
        y = x * 1.0
        c1, c2, c3 = y.copy(), np.copy(y), copy.copy(y)
        v = y[1:]
        w = v.copy()           # a copy of a view is its own array
        w[0] = 0.0
        y[0] = 0.0
        c1[1] = 0.0
        return c1 + c2 + c3 + y + w.sum()

    check_grads(f, X, modes=BOTH)


@pytest.mark.parametrize("make, fill", [
    (np.zeros_like, 0.0), (np.ones_like, 1.0), (np.empty_like, 0.0),
    (lambda x: np.full_like(x, 2.5), 2.5),
])
def test_arrays_made_to_be_written_into(make, fill):
    def f(x):
        out = make(x)
        if not isinstance(out, np.ndarray):   # traced (NumPy's empty_like holds garbage)
            np.testing.assert_array_equal(wg.stop_gradient(out), np.full(x.shape, fill))
        else:
            out[...] = fill
        for i in range(1, x.shape[0]):
            out[i] = np.sin(out[i - 1]) * x[i]
        return out

    check_grads(f, X, modes=BOTH)
    check_grads(lambda x: np.sum(f(x) ** 2), X, modes=BOTH, order=2)


def test_integer_like_arrays_stay_plain():
    def f(x):
        counts = np.zeros_like(x, dtype=int)
        assert type(counts) is np.ndarray
        return np.sum(x)

    wg.gradient(f, X)


def test_a_plain_array_times_a_traced_value_is_traced():
    def f(a):
        buf = np.zeros(3) * a
        buf[1] = a ** 2
        return buf

    check_grads(f, 1.5, modes=BOTH)


def test_writing_into_a_plain_array_names_the_fix():
    def f(x):
        buf = np.zeros(3)
        buf[0:1] = x[0:1]
        return np.sum(buf)

    with pytest.raises(wg.DifferentiationError, match=r"np\.zeros_like"):
        wg.gradient(f, np.ones(3))


@pytest.mark.parametrize("call", [
    lambda a, b, x: np.add(a, b, out=x),
    lambda a, b, x: np.sin(a, out=x),
    lambda a, b, x: np.matmul(a.reshape(3, 4), b.reshape(4, 3), out=x.reshape(3, 3)[:]) if False
    else np.multiply(a, b, out=(x,)),
    lambda a, b, x: np.cumsum(a, out=x),
    lambda a, b, x: np.clip(a, -0.5, b, out=x),
], ids=["add", "sin", "multiply tuple", "cumsum", "clip"])
def test_out_into_a_traced_array(call):
    def f(a, b):
        x = np.zeros_like(a)
        alias = x
        result = call(a, b, x)
        assert result is alias
        return alias * 1.0

    check_grads(f, RNG.normal(size=4), RNG.normal(size=4) + 2, modes=BOTH)


def test_out_of_functions_with_matrices():
    def f(a, b):
        x = np.ones_like(a)
        np.matmul(a, b, out=x)
        y = np.zeros_like(a)
        np.dot(x, b, out=y)
        s = np.zeros_like(a[0, 0])
        np.sum(y, out=s)
        return s + y

    check_grads(f, RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3)), modes=BOTH)


def test_caller_arrays_are_never_written():
    x = RNG.normal(size=4)
    kept = x.copy()

    def f(x):
        x[0] = 10.0
        x += 1.0
        x[1:3] *= x[3]
        np.sin(x, out=x)
        return x

    wg.gradient(lambda x: np.sum(f(x)), x)
    wg.jvp(f, (x,), (np.ones(4),))
    y, back = wg.pullback(f, x)
    back(np.ones(4))
    wg.hessian(lambda x: np.sum(f(x)), x)
    np.testing.assert_array_equal(x, kept)


def test_float32_and_complex_values():
    def f32(x):
        y = np.zeros_like(x)
        y[1:] = x[:-1] * np.float64(2.0)
        assert y.dtype == np.float32
        return y

    gx = wg.gradient(lambda x: np.sum(f32(x)), np.ones(3, np.float32))[0]
    assert gx.dtype == np.float32

    def fc(z, w):
        z = z * 1.0
        z[1] = w * z[0]
        z[::2] += 1j * w
        return z

    check_grads(fc, RNG.normal(size=3) + 1j * RNG.normal(size=3), 0.3 - 0.2j, modes=BOTH)


def test_a_value_of_an_inner_transformation_is_refused():
    def f(x):
        buf = np.zeros_like(x)

        def inner(y):
            buf[0] = y[0]   # buf belongs to the outer gradient, y to the inner one
            return np.sum(y)

        wg.gradient(inner, x)
        return np.sum(buf)

    with pytest.raises(wg.DifferentiationError, match="zeros_like"):
        wg.gradient(f, np.ones(3))


def test_hessian_forwarddiff_checkpoint():
    def f(x):
        y = np.zeros_like(x)
        y[0] = x[0] * x[1]
        y[1:] = np.sin(x[1:]) ** 2
        y[[0, 0]] += x[2]
        return np.sum(y * x)

    x = np.array([0.3, -0.7, 1.1])
    h = wg.hessian(f, x)
    eps = 1e-6
    numeric = np.stack([(wg.gradient(f, x + eps * e)[0] - wg.gradient(f, x - eps * e)[0])
                        / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(h, numeric, atol=1e-6)

    g = wg.gradient(f, x)[0]
    np.testing.assert_allclose(wg.gradient(lambda x: wg.forwarddiff(f, x), x)[0], g)
    kept = x.copy()

    @wg.checkpoint
    def writes_its_argument(x):
        x[1] = x[0] ** 3
        return np.sum(np.exp(x))

    def reference(x):
        x = x * 1.0
        x[1] = x[0] ** 3
        return np.sum(np.exp(x))

    np.testing.assert_allclose(wg.gradient(writes_its_argument, x)[0],
                               wg.gradient(reference, x)[0])
    np.testing.assert_array_equal(x, kept)


def test_params_write_the_stand_in_not_the_array():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    kept = W.copy()

    def loss():
        W[0, 0] = 10.0            # writes the traced stand-in of W, not the user's W
        return np.sum(W ** 2)

    grads = wg.gradient(loss, wg.Params([W]))
    np.testing.assert_array_equal(grads[W], [[0.0, 4.0], [6.0, 8.0]])
    np.testing.assert_array_equal(W, kept)


def test_a_scalar_is_rebound_not_written():
    def f(x):
        total = x[0] * 0.0
        first = total
        for i in range(3):
            total += x[i] ** 2       # a NumPy scalar: a new object, as without wengert
        assert first is not total
        return total + first

    check_grads(f, np.array([0.5, -1.0, 2.0]), modes=BOTH)


def test_a_write_never_reaches_what_an_inner_transformation_kept():
    # An outer tracer used by an inner gradient (as a constant, or as the inner input
    # itself), then written before the inner derivative is taken: the derivative is that of
    # the values when they were used.
    def f(x):
        def inner(y):
            z = x * y          # x: a constant of the inner tape
            x[0] = 100.0       # written afterwards
            return np.sum(z * y)

        g_inner = wg.gradient(inner, x * 1.0)[0]
        val, back = wg.pullback(lambda y: np.sum(y ** 3), x)
        x[1] = -50.0           # written between the inner pullback and its back
        return np.sum(back(1.0)[0] * g_inner)

    def reference(x):
        g_inner = 2 * x * x    # d/dy sum(x y²) at y = x, with x as inner() read it
        written = x * 1.0
        written[0] = 100.0     # the pullback saw x after inner() wrote it, before x[1] was
        back = 3 * written ** 2
        return np.sum(back * g_inner)

    x = np.array([0.5, -1.5, 2.0])
    np.testing.assert_allclose(wg.gradient(f, x)[0], wg.gradient(reference, x)[0])
    np.testing.assert_allclose(wg.jvp(f, (x,), (np.ones(3),))[1],
                               wg.jvp(reference, (x,), (np.ones(3),))[1])


def test_a_tangent_the_program_writes_is_kept_as_it_was():
    def f(x):
        t = x * 0.0 + 1.0
        def inner(y):
            t[0] = 10.0        # the tangent passed to jvp below, written during it
            return np.sum(y ** 2)
        return wg.jvp(inner, (x,), (t,))[1]

    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(wg.gradient(f, x)[0], [2.0, 2.0])


def test_fill_and_a_parameter_attribute_written_in_place():
    class Layer:
        def __init__(self):
            self.W = np.array([1.0, 2.0, 3.0])

    layer = Layer()
    kept = layer.W.copy()

    def loss():
        layer.W *= 2.0           # the stand-in is written; the attribute is put back
        return np.sum(layer.W ** 2)

    grads = wg.gradient(loss, wg.Params([layer.W]))
    np.testing.assert_array_equal(grads[layer.W], 8.0 * kept)
    np.testing.assert_array_equal(layer.W, kept)

    def filled(x):
        y = x * 1.0
        y[1:].fill(x[0] ** 2)    # through a view made by basic indexing
        return y

    check_grads(filled, np.array([0.5, 1.0, 2.0]), modes=BOTH)


def test_an_escaped_tracer_makes_no_array():
    kept = []
    wg.gradient(lambda x: kept.append(x) or np.sum(x), np.ones(2))
    with pytest.raises(wg.DifferentiationError, match="already finished"):
        np.zeros_like(kept[0])
