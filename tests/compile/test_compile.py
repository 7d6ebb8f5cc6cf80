"""wg.compile: compiled results equal eager ones, for plain functions and derivatives; the
source compiles; later calls do not trace; guards retrace; closures are referred to."""
import re

import numpy as np
import pytest

import wengert as wg

RNG = np.random.default_rng(0)
X = RNG.uniform(0.2, 1.5, 4)
M = RNG.normal(size=(4, 3))


def chain(x):
    for k in range(20):
        x = (np.sin, np.tanh, np.exp, np.log1p)[k % 4](x) * 1.01
    return np.sum(x)


def mlp(w):
    h = np.tanh(M.T @ w[:4])
    return np.sum(h ** 2) + np.sum(np.maximum(w, 0.5))


def reductions(x):
    return np.mean(x) * np.std(x) + np.max(x) - np.prod(x) ** 0.5


def indexing(x):
    return np.sum(x[1:] * x[:-1]) + x[0] ** 3 + np.sum(x[[0, 2]])


def where(x):
    return np.sum(np.where(x > 0.7, np.log(x), x ** 2))


def linalg(x):
    a = np.outer(x, x) + np.eye(4)
    return np.linalg.slogdet(a)[1] + np.sum(np.linalg.solve(a, x))


def concat(x):
    return np.sum(np.concatenate([x, np.cumsum(x)]) ** 2) + np.sum(np.stack([x, x * 2]).T)


FUNCTIONS = [chain, mlp, reductions, indexing, where, linalg, concat]


def _same(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("transform", ["plain", "grad", "withgradient", "jvp", "hessian"])
def test_compiled_equals_eager(f, transform):
    made = {
        "plain": lambda: f,
        "grad": lambda: wg.grad(f),
        "withgradient": lambda: lambda x: wg.withgradient(f, x),
        "jvp": lambda: lambda x: wg.jvp(f, (x,), (np.ones_like(x),)),
        "hessian": lambda: lambda x: wg.hessian(f, x),
    }[transform]()
    compiled = wg.compile(made)
    for x in (X, X * 0.9):   # the second runs the emitted program only
        _flat_same(compiled(x), made(x))


def _flat_same(a, b):
    leaves_a, leaves_b = _leaves(a), _leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for u, v in zip(leaves_a, leaves_b):
        _same(u, v)


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [leaf for v in x for leaf in _leaves(v)]
    return [x]


def test_second_call_does_not_trace():
    traced = []

    def f(x):
        traced.append(1)
        return np.sum(np.sin(x) ** 2)

    cf = wg.compile(wg.grad(f))
    first = cf(X)
    for _ in range(3):
        again = cf(X * 1.1)
    cf(np.ones(5))   # a new shape is a new signature
    assert len(traced) == 2
    _same(again, 2 * np.sin(X * 1.1) * np.cos(X * 1.1))
    _same(first, 2 * np.sin(X) * np.cos(X))


def test_guard_retraces_on_a_changed_branch():
    traced = []

    def f(x):
        traced.append(1)
        if np.sum(x) > 0:
            return np.sum(x ** 2)
        return np.sum(np.sin(x))

    cf = wg.compile(wg.grad(f))
    _same(cf(X), 2 * X)
    _same(cf(-X), np.cos(-X))
    _same(cf(X), 2 * X)
    _same(cf(-X * 2), np.cos(-2 * X))
    assert len(traced) == 2   # one trace per path; both paths kept


def test_guard_on_float_and_int():
    def f(x):
        n = int(np.argmax(x))
        return x[n] * float(np.sum(x))

    cf = wg.compile(f)
    for x in (X, X[::-1].copy(), X + 1):
        _same(cf(x), f(x))


def test_source_compiles_and_has_no_tracer():
    cf = wg.compile(wg.grad(mlp))
    source = cf.source(X)
    compile(source, "<test>", "exec")
    assert "Tracer" not in source and "wengert" not in source
    assert all(line.count("(") <= 3 or "raise" in line for line in source.splitlines()[1:-1])


def test_dead_code_leaves_no_unused_cotangent():
    def f(x, y):
        return np.sum(np.exp(x) * 3.0) + np.sum(np.cos(y))

    cf = wg.compile(lambda x, y: wg.gradient(f, x, y)[0])
    source = cf.source(X, X)
    assert "sin" not in source   # the cotangent of y (through cos) is dead
    _same(cf(X, X), 3 * np.exp(X))


def test_closure_sees_in_place_changes():
    w = np.ones(4)

    def f(x):
        return np.sum(np.sin(x) * w)

    cf = wg.compile(wg.grad(f))
    _same(cf(X), np.cos(X))
    w[:] = 2.0
    _same(cf(X), 2 * np.cos(X))


def test_buffer_refilled_while_tracing_keeps_each_value():
    def f(x):
        t = np.empty(4)
        y = x
        for k in range(3):
            t[:] = k + 1.0
            y = y * t
        return np.sum(y)

    cf = wg.compile(wg.grad(f))
    _same(cf(X), np.full(4, 6.0))
    _same(cf(X * 2), np.full(4, 6.0))


def test_writes_into_staged_arrays():
    def f(x):
        y = np.zeros_like(x)
        y[1:] = x[:-1] ** 2
        y += x
        return np.sum(y * x)

    cf = wg.compile(f)
    for x in (X, X * 3):
        _same(cf(x), f(x))


@pytest.mark.parametrize("transform", [wg.grad, lambda f: lambda x: wg.jvp(f, (x,), (X,))[1]])
def test_writes_under_a_derivative(transform):
    def f(x):
        y = np.zeros_like(x)
        y[1:] = x[:-1] ** 2
        y *= x
        return np.sum(y * x)

    cg = wg.compile(transform(f))
    for x in (X, X * 2):
        _same(cg(x), transform(f)(x))


def test_static_argnums_and_python_numbers():
    traced = []

    def f(x, n, scale):
        traced.append(1)
        for _ in range(n):
            x = np.sin(x) * scale
        return np.sum(x)

    cf = wg.compile(f, static_argnums=(1,))
    got = [cf(X, 3, 2.0), cf(X, 3, 2.0), cf(X, 4, 2.0), cf(X, 4, 0.5)]
    assert len(traced) == 3
    for value, args in zip(got, [(3, 2.0), (3, 2.0), (4, 2.0), (4, 0.5)]):
        _same(value, f(X, *args))   # n is static, scale a Python number: both are keys


def test_trees_in_and_out():
    def f(p):
        return {"y": np.tanh(p["w"] @ p["x"]), "n": 2}

    p = {"w": M.T.copy(), "x": X}
    cf = wg.compile(wg.grad(lambda p: np.sum(f(p)["y"])))
    got, want = cf(p), wg.grad(lambda p: np.sum(f(p)["y"]))(p)
    _same(got["w"], want["w"])
    _same(got["x"], want["x"])
    out = wg.compile(f)(p)
    assert out["n"] == 2
    _same(out["y"], f(p)["y"])


def test_custom_rule_and_primitive_inside():
    @wg.primitive
    def clipped(x):
        return np.asarray(x).clip(0.3, 1.0)   # plain NumPy: called as it is

    @wg.rrule(clipped)
    def _clipped_rule(x):
        y = clipped(x)
        return y, lambda g: (g * ((x > 0.3) & (x < 1.0)),)

    f = lambda x: np.sum(clipped(x) ** 2)
    cf = wg.compile(wg.grad(f))
    for x in (X, X * 0.5):
        _same(cf(x), wg.grad(f)(x))


def test_keeps_retracing_warns():
    cf = wg.compile(lambda x, k: np.sum(x * k))
    with pytest.warns(RuntimeWarning, match="traced"):
        for k in range(12):
            cf(X, float(k))


def test_results_are_the_callers_own():
    cf = wg.compile(wg.grad(lambda x: np.sum(x)))
    for _ in range(2):   # the traced call, and a run of the program
        g = cf(X)
        g[0] = 5.0   # writable, not a broadcast view
    _same(cf(X), np.ones(4))


def test_unsupported_conversion_raises():
    def f(x):
        return np.sum(np.asarray(x))

    with pytest.raises(wg.DifferentiationError, match="wg.compile"):
        wg.compile(f)(X)


def test_unhashable_argument_raises():
    with pytest.raises(wg.DifferentiationError, match="hashable"):
        wg.compile(lambda x, d: np.sum(x))(X, [{1}])


def test_buffers_reused_where_nothing_reads_them():
    def f(w):
        h = np.tanh(M @ w + 1.0)
        return np.sum(h ** 2)

    cf = wg.compile(wg.grad(f))
    w = RNG.normal(size=3)
    source = cf.source(w)
    assert "out=" in source
    for v in (w, 2 * w):
        _same(cf(v), wg.grad(f)(v))
    assert np.array_equal(w, w.copy())   # the input is never a reused buffer


def test_a_seed_mask_is_folded_away():
    cf = wg.compile(wg.grad(lambda x: np.sum(x ** 2)))
    assert "where" not in cf.source(X)
    _same(cf(X), 2 * X)


def _gp_like(theta, d2, y):
    k = theta[0] * np.exp(-d2 / (2 * theta[1] ** 2)) + theta[2] * np.eye(len(y))
    chol = np.linalg.cholesky(k)
    z = np.linalg.solve(chol, y)
    return 0.5 * (z @ z) + np.sum(np.log(np.diagonal(chol)))


@pytest.mark.parametrize("n", [4, 300])   # 300: the blocked Cholesky sweep, run whole
def test_rules_called_whole_by_the_program(n):
    points = RNG.uniform(size=(n, 2))
    d2 = np.sum((points[:, None] - points[None]) ** 2, axis=-1)
    y = np.sin(points[:, 0])
    f = lambda theta: _gp_like(theta, d2, y)
    cf = wg.compile(wg.grad(f))
    assert "cholesky_rule" in cf.source(np.array([1.0, 0.5, 0.1]))
    for theta in (np.array([1.0, 0.5, 0.1]), np.array([0.7, 0.3, 0.2])):
        np.testing.assert_allclose(cf(theta), wg.grad(f)(theta), rtol=1e-9)


def test_rules_inside_a_hessian_are_recorded_line_by_line():
    d2 = np.array([[0.0, 1.0, 4.0], [1.0, 0.0, 1.0], [4.0, 1.0, 0.0]])
    y = np.array([0.3, -0.2, 0.5])
    f = lambda theta: _gp_like(theta, d2, y)
    cf = wg.compile(lambda theta: wg.hessian(f, theta))
    for theta in (np.array([1.0, 0.5, 0.1]), np.array([0.7, 0.3, 0.2])):
        np.testing.assert_allclose(cf(theta), wg.hessian(f, theta), rtol=1e-9)


def test_derivatives_with_respect_to_closed_over_arrays_follow_them():
    w = np.array([0.5, -1.0, 2.0, 0.3])
    cf = wg.compile(lambda x: wg.gradient(lambda w: np.sum(np.sin(w) ** 2), w)[0] + x)
    jf = wg.compile(lambda x: wg.jvp(lambda w: np.sum(w ** 3), (w,), (w,))[1] * x)
    for _ in range(2):
        _same(cf(X), 2 * np.sin(w) * np.cos(w) + X)
        _same(jf(X), 3 * np.sum(w ** 3) * X)
        w *= 1.5   # in place: the next run sees it


def test_params_inside_compile():
    class Layer:
        def __init__(self):
            self.w = np.array([[0.5, -0.2], [0.1, 0.3]])
            self.b = np.array([0.1, -0.1])

    layer = Layer()
    ps = wg.Params(layer)
    loss = lambda x: np.sum(np.tanh(layer.w @ x + layer.b) ** 2) + np.sum(layer.w ** 2)
    cf = wg.compile(lambda x: tuple(wg.gradient(lambda: loss(x), ps)[p] for p in ps))
    x = np.array([1.0, 2.0])
    for _ in range(2):
        got = cf(x)
        want = wg.gradient(lambda: loss(x), ps)
        for g, p in zip(got, ps):
            _same(g, want[p])
        layer.w -= 0.1 * got[0]   # an optimizer's step, in place
        layer.b -= 0.1 * got[1]


def test_checkpoint_inside_compile():
    block = wg.checkpoint(lambda h: np.tanh(h) * 2.0)
    f = lambda x: np.sum(block(block(x)))
    cf = wg.compile(wg.grad(f))
    for x in (X, -X):
        _same(cf(x), wg.grad(f)(x))


def test_scipy_inside_compile():
    special = pytest.importorskip("scipy.special")
    f = lambda x: np.sum(special.gammaln(x) + special.erf(x))
    cf = wg.compile(wg.grad(f))
    for x in (X, X + 1):
        _same(cf(x), wg.grad(f)(x))


def test_common_subexpressions_are_computed_once():
    def f(x):
        return np.sum(np.sin(x) * np.exp(x)) + np.sum(np.sin(x) / np.exp(x))

    cf = wg.compile(wg.grad(f))
    source = cf.source(X)
    assert source.count("np.sin(") == 1 and source.count("np.exp(") == 1
    assert source.count("np.cos(") == 1   # the two partials of sin are one line
    for x in (X, 2 * X):
        _same(cf(x), wg.grad(f)(x))


def test_no_subexpression_is_shared_across_a_write():
    def f(x):
        y = np.zeros_like(x)
        a = np.sum(y * x)
        y[0] = 1.0
        return a + np.sum(y * x)

    cf = wg.compile(f)
    for x in (X, 2 * X):
        _same(cf(x), f(x))


def test_the_walk_stays_as_quiet_as_uncompiled():
    import warnings

    def f(x):
        return np.sum(np.where(x > 0, np.sqrt(x), 0.0))   # 1/(2√0) in the walk, masked

    x = np.array([0.0, 1.0, 2.0])
    cf = wg.compile(wg.grad(f))
    cf(x)
    for run in (wg.grad(f), cf):   # the second runs the emitted program
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = run(x)
    _same(got, wg.grad(f)(x))


@pytest.mark.parametrize("transform", [
    lambda f: lambda x: wg.pullback(f, x)[1](1.0),
    lambda f: lambda x: wg.jacobian(lambda x: np.sin(x) * f(x), x),
    lambda f: lambda x: wg.jacobian(lambda x: np.sin(x) * f(x), x, mode="forward"),
    lambda f: lambda x: wg.partial(f, x, index=2),
    lambda f: lambda x: wg.value_and_grad(f)(x),
    lambda f: lambda x: wg.derivative(lambda t: f(x * t), 1.5),
], ids=["pullback", "jacobian", "jacobian-forward", "partial", "value_and_grad", "derivative"])
def test_other_transformations_inside(transform):
    made = transform(reductions)
    cf = wg.compile(made)
    for x in (X, 1.5 * X):
        _flat_same(cf(x), made(x))


def test_returning_a_function_raises():
    with pytest.raises(wg.DifferentiationError, match="returned a method"):
        wg.compile(lambda x: wg.pullback(np.sin, x))(X)


def test_a_while_loop_on_values_is_unrolled_and_guarded():
    traced = []

    def halve_until_small(x):
        traced.append(1)
        while np.max(np.abs(x)) > 1.0:
            x = x / 2
        return np.sum(x ** 2)

    cf = wg.compile(wg.grad(halve_until_small))
    big = np.array([3.0, -5.0])
    for x in (big, big * 1.1, big * 4, big * 1.1):
        want = wg.grad(halve_until_small)(x)
        _same(cf(x), want)
    assert len(traced) == 4 + 2   # 4 eager runs; 2 traces: 8x needs one more halving


def test_an_array_a_primitive_returns_is_never_written_into():
    kept = np.array([1.0, 2.0, 3.0, 4.0])

    @wg.primitive
    def stored(x):
        return kept   # the same array every call

    f = lambda x: np.tanh(stored(x)) + x
    cf = wg.compile(f)
    for x in (X, 2 * X):
        _same(cf(x), np.tanh([1.0, 2.0, 3.0, 4.0]) + x)
    assert np.array_equal(kept, [1.0, 2.0, 3.0, 4.0])


def test_no_buffer_is_reused_while_a_view_of_it_is_read():
    def f(x):
        y = np.exp(x)
        b1, _ = np.broadcast_arrays(y, x)   # views of y, through a list of arguments
        z = np.sin(y)                      # the last read of y itself
        return np.sum(b1 * z)

    cf = wg.compile(f)
    for x in (X, 2 * X):
        _same(cf(x), f(x))


def test_a_compiled_function_inside_another_is_part_of_it():
    inner = wg.compile(lambda x: np.sin(x) * 2.0)
    outer = wg.compile(wg.grad(lambda x: np.sum(inner(x) ** 2)))
    for x in (X, 2 * X):
        _same(outer(x), 8 * np.sin(x) * np.cos(x))


def test_another_thread_differentiates_while_one_traces():
    import threading

    w = np.array([1.0, 2.0, 3.0, 4.0])
    results = []
    started, release = threading.Event(), threading.Event()

    def slow(x):
        started.set()
        release.wait(5)
        return np.sum(np.sin(x) * w)

    tracer = threading.Thread(target=lambda: results.append(wg.compile(wg.grad(slow))(X)))
    tracer.start()
    started.wait(5)
    eager = wg.grad(lambda x: np.sum(x * w))(X)   # keeps its constants as usual
    # w stands in as a traced value while slow is traced (the same closure cell): here it
    # computes as the plain array
    plain = np.exp(w) + w
    release.set()
    tracer.join()
    _same(eager, w)
    assert type(plain) is np.ndarray
    _same(plain, np.exp([1.0, 2.0, 3.0, 4.0]) + [1.0, 2.0, 3.0, 4.0])
    _same(results[0], np.cos(X) * w)


def test_a_custom_frule_and_forwarddiff_inside():
    @wg.primitive
    def logsumexp(v):
        m = np.max(v)
        return m + np.log(np.sum(np.exp(v - m)))

    @wg.frule(logsumexp)
    def _logsumexp_frule(dv, v):
        value = logsumexp(v)
        return value, np.sum(np.exp(v - value) * dv)

    pushed = lambda x: wg.jvp(logsumexp, (x,), (np.ones_like(x),))[1]
    through_forwarddiff = lambda x: wg.forwarddiff(lambda v: np.sin(v) * logsumexp(v), x)
    for made in (pushed, through_forwarddiff):
        cf = wg.compile(made)
        for x in (X, 3 * X):
            _flat_same(cf(x), made(x))


def test_reads_move_above_an_elementwise_line_so_it_reuses_its_argument():
    f = lambda x, y: np.exp(-np.sum((x - y) ** 2))
    cf = wg.compile(lambda x, y: wg.partial(f, x, y, index=2))
    assert re.search(r"np\.square\((t\d+), out=\1\)", cf.source(X, X[::-1].copy()))
    for y in (X[::-1].copy(), 2 * X):
        _same(cf(X, y), wg.partial(f, X, y, index=2))


def test_no_read_moves_across_a_write():
    def f(x):
        y = np.exp(x)
        z = np.sin(y)
        y[0] = 5.0
        return np.sum(z) + y[0] * y[1]

    cf = wg.compile(f)
    for x in (X, 2 * X):
        _same(cf(x), f(x))


def test_an_array_made_without_the_arguments_is_returned_anew():
    cf = wg.compile(lambda x: (np.sin(x), np.zeros(2)))
    first = cf(X)[1]
    first[0] = 7.0
    second = cf(X)[1]
    second[1] = 7.0
    np.testing.assert_array_equal(cf(X)[1], np.zeros(2))


def test_arrays_in_objects_with_slots_and_static_arguments_are_referred_to():
    class Weights:
        __slots__ = ("w",)

        def __init__(self):
            self.w = np.ones(4)

    held = Weights()
    cf = wg.compile(lambda x: np.sum(x * held.w))
    cg = wg.compile(lambda x, table: np.sum(x * table.w), static_argnums=(1,))
    table = Weights()   # hashable by identity: a static argument
    for scale in (1.0, 3.0):
        held.w[:] = scale
        table.w[:] = scale
        _same(cf(X), scale * np.sum(X))
        _same(cg(X, table), scale * np.sum(X))


def test_printing_and_metadata_while_tracing(capsys):
    def f(x):
        print(f"{np.sum(x):.1f}", x[0], x.nbytes, x.itemsize, len(x))
        return np.sum(x)

    cf = wg.compile(f)
    _same(cf(np.ones(4)), 4.0)
    assert capsys.readouterr().out.split() == ["4.0", "1.0", "32", "8", "4"]


def test_float32_tangents_keep_their_precision():
    x = X.astype(np.float32)
    made = lambda x: wg.jvp(lambda v: np.power(2.0, v), (x,), (np.ones_like(x),))
    cf = wg.compile(made)
    for v in (x, 2 * x):
        for got, want in zip(cf(v), made(v)):
            assert got.dtype == want.dtype == np.float32
            _same(got, want)


@pytest.mark.parametrize("select", [lambda x: x[x > 0.5], lambda x: x[np.nonzero(x > 0.5)],
                                    lambda x: np.compress(x > 0.5, x)],
                         ids=["mask", "nonzero", "compress"])
def test_shapes_that_depend_on_values_are_guarded(select):
    f = lambda x: np.sum(np.sin(select(x)) ** 2)
    cf = wg.compile(wg.grad(f))
    for x in (np.array([0.1, 0.6, 0.9]), np.array([0.7, 0.6, 0.9]), np.array([0.1, 0.2, 0.9])):
        _same(cf(x), wg.grad(f)(x))
    assert "shape !=" in cf.source(np.array([0.1, 0.6, 0.9]))


def test_closed_over_arrays_are_never_folded_by_their_values():
    ones = np.ones(4)
    mask = np.zeros(4, dtype=bool)
    f = lambda x: np.sum(np.where(mask, x * ones, 0.0) + x * ones)
    cf = wg.compile(f)
    cg = wg.compile(wg.grad(f))
    for _ in range(2):
        _same(cf(X), f(X))
        _same(cg(X), wg.grad(f)(X))
        ones[:] = 3.0
        mask[1:] = True


W_GLOBAL = np.array([[2.0, 0.3], [0.3, 1.0]])


class _Model:
    def __init__(self):
        self.scale = np.array([0.5, 1.5])


MODEL = _Model()


@pytest.mark.parametrize("make", [
    lambda w: (lambda x: np.sum(np.exp(w).ravel() * x)),                # closure
    lambda w: (lambda x, w=w: np.sum(np.linalg.inv(w @ w.T + 1.0)[0] * x[:2])),   # default
    lambda w: (lambda x: np.sum(np.linalg.solve(W_GLOBAL, MODEL.scale) * x[:2])),  # globals
    lambda w: (lambda x: x * float(np.sum(w))),                          # a Python number
], ids=["closure", "default", "global-and-attribute", "float"])
def test_values_computed_from_closed_over_arrays_follow_them(make):
    w = np.array([[0.5, -1.0], [2.0, 0.3]])
    f = make(w)
    cf, cg = wg.compile(f), wg.compile(wg.grad(lambda x: np.sum(f(x) ** 2)))
    for step in range(3):
        _same(cf(X), f(X))
        _same(cg(X), wg.grad(lambda x: np.sum(f(x) ** 2))(X))
        w *= 1.5   # in place, after the first trace: the programs compute with the new values
        W_GLOBAL[0, 0] += 1.0
        MODEL.scale[1] -= 0.25


def test_closed_over_index_arrays_and_decisions_on_them_follow_them():
    index = np.array([0, 2])
    threshold = np.array(0.5)
    f = lambda x: np.sum(x[index] ** 2) if np.max(x) > threshold else np.sum(x)
    cf = wg.compile(wg.grad(f))
    for new_index, new_threshold in (([1, 3], 0.5), ([3, 3], 10.0), ([0, 1], -1.0)):
        _same(cf(X), wg.grad(f)(X))
        index[:] = new_index
        threshold[()] = new_threshold
    _same(cf(X), wg.grad(f)(X))


def test_a_closed_over_buffer_written_into_is_written_by_the_program():
    buffer = np.zeros(4)

    def f(x):
        buffer[:] = x * 2.0
        return np.sum(np.exp(buffer))

    cf = wg.compile(f)
    for x in (X, 0.5 * X):
        want = float(np.sum(np.exp(2.0 * x)))
        _same(cf(x), want)
        _same(buffer, 2.0 * x)


def test_a_primitive_is_one_line_with_the_plain_arrays_it_closes_over():
    scale = np.array([1.0, 2.0, 3.0, 4.0])

    @wg.primitive
    def scaled(x):
        return np.exp(x) * np.asarray(scale)   # converts, as library code does

    f = lambda x: np.sum(scaled(x) * scale)   # the same closure cell, read outside too
    cf = wg.compile(f)
    for _ in range(2):
        _same(cf(X), f(X))
        scale *= 2.0
    assert cf.source(X).count("_scaled1(x)") == 1


class _Settings:
    def __init__(self):
        self.weights = np.array([1.0, -1.0, 0.5, 2.0])

    __hash__ = object.__hash__


def test_arrays_in_a_static_argument_are_read_by_the_program():
    settings = _Settings()
    f = lambda x, s: np.sum(np.tanh(s.weights * 2.0) * x)
    cf = wg.compile(f, static_argnums=1)
    for _ in range(2):
        _same(cf(X, settings), f(X, settings))
        settings.weights[:] = [0.5, 0.5, -2.0, 1.0]


class _Noisy:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def loss(self, x):
        noise = self.rng.standard_normal(x.shape)   # reparameterized: x + noise
        return np.sum(np.sin(x + 0.1 * noise) ** 2) + self.rng.uniform()


@pytest.mark.parametrize("make_rng", [np.random.default_rng, np.random.RandomState],
                         ids=["Generator", "RandomState"])
def test_random_draws_are_made_anew_on_every_call(make_rng):
    def run(rng):   # the same function, compiled or not, with a generator of the same seed
        f = lambda x: np.sum(np.tanh(x * rng.normal(size=x.shape)))
        return f, wg.grad(f)
    f, g = run(make_rng(7))
    cf, cg = wg.compile(f), wg.compile(g)
    f0, g0 = run(make_rng(7))
    values = [(cf(X), cg(X)) for _ in range(3)]
    for value, gradient in values:   # the same stream of numbers as the uncompiled calls
        _same(value, f0(X))
        _same(gradient, g0(X))
    assert values[0][0] != values[1][0]


def test_draws_of_a_generator_in_an_object_and_as_an_argument():
    model, reference = _Noisy(3), _Noisy(3)
    cg = wg.compile(wg.grad(model.loss))
    for _ in range(3):
        _same(cg(X), wg.grad(reference.loss)(X))
    assert "_uniform" in cg.source(X)   # drawn though nothing reads it: later draws match
    rng, reference_rng = np.random.default_rng(5), np.random.default_rng(5)
    f = lambda x, rng: np.sum(x * rng.standard_normal(4))
    cf = wg.compile(f)
    for _ in range(3):
        _same(cf(X, rng), f(X, reference_rng))


def test_draws_from_numpys_global_generator_are_refused():
    f = lambda x: np.sum(x * np.random.normal(size=4))
    with pytest.raises(wg.DifferentiationError, match="global generator.*default_rng"):
        wg.compile(f)(X)


def test_large_temporaries_are_let_go_after_their_last_read_small_ones_are_not():
    def f(x):
        y = np.exp(x)            # large: let go once its last reader has run
        column = y[:, 0]         # a view of it, read after y's name is let go
        z = np.sin(y) * 2.0
        return np.sum(z) + np.sum(column ** 2), np.sum(np.cos(x[0, :3]))   # small: kept
    cf = wg.compile(f)
    x = RNG.uniform(size=(100, 100))
    source = cf.source(x)
    assert "del " in source
    for arguments in (x, 2 * x):
        _flat_same(cf(arguments), f(arguments))
    small = wg.compile(lambda v: np.sum(np.exp(v) * np.sin(v)))
    assert "del " not in small.source(X)


def test_products_only_returned_are_computed_after_the_chain_of_cotangents():
    def f(w1, w2, x):
        return np.sum(np.tanh(np.tanh(x @ w1) @ w2) ** 2)

    cg = wg.compile(wg.grad(f, argnums=(0, 1)))
    w1, w2, x = RNG.standard_normal((8, 8)), RNG.standard_normal((8, 8)), RNG.standard_normal((4, 8))
    lines = [line.strip() for line in cg.source(w1, w2, x).splitlines()]
    body = [line for line in lines if "=" in line and not line.startswith("with")]
    last_elementwise = max(k for k, line in enumerate(body) if "np.multiply(" in line)
    weight_products = [k for k, line in enumerate(body) if "np.matmul(" in line][-2:]
    assert min(weight_products) > last_elementwise
    for scale in (1.0, 0.5):
        _flat_same(cg(w1 * scale, w2, x), wg.grad(f, argnums=(0, 1))(w1 * scale, w2, x))


SCALE = 2.0


def test_rebinding_what_the_function_reads_traces_again():
    global SCALE
    traced = []
    model = _Model()   # .scale, an attribute
    table = {"w": np.array([1.0, -1.0, 0.5, 2.0])}
    offset = np.array(0.5)

    def f(x):
        traced.append(1)   # a list it appends to: not a reason to trace again
        return np.sum(x * table["w"] * SCALE) + np.sum(model.scale) * np.sum(x) + offset

    cf, cg = wg.compile(f), wg.compile(wg.grad(f))

    def check():
        _same(cf(X), np.sum(X * table["w"] * SCALE) + np.sum(model.scale) * np.sum(X) + offset)
        _same(cg(X), table["w"] * SCALE + np.sum(model.scale))

    check()
    check()
    assert len(traced) == 2   # one trace each, then only the programs run
    table["w"] *= 3.0         # in place: seen without tracing again
    check()
    assert len(traced) == 2
    for rebind in (lambda: globals().update(SCALE=3.0),                        # a global
                   lambda: setattr(model, "scale", model.scale * 2.0),          # an attribute
                   lambda: table.update(w=np.array([0.1, 0.2, 0.3, 0.4]))):    # an item
        before = len(traced)
        rebind()
        check()
        assert len(traced) == before + 2   # each traced again, once
    SCALE = 2.0


def test_rebinding_a_closed_over_name_traces_again():
    w = np.ones(4)
    cg = wg.compile(wg.grad(lambda x: np.sum(np.sin(x) * w)))
    _same(cg(X), np.cos(X))
    w = np.full(4, 2.0)   # the closure's cell now holds another array
    _same(cg(X), 2.0 * np.cos(X))


def test_a_constant_read_in_a_loop_is_kept_once_and_refills_are_seen():
    def f(x):
        table = np.arange(4.0)
        total = 0.0
        for k in range(3):
            total = total + np.sum(x * table)
            table[k] = 10.0   # a plain write while tracing: later reads see it
        return total

    cf = wg.compile(f)
    for x in (X, 2 * X):
        _same(cf(x), f(x))
    assert cf.source(X).count("_c") == 3   # three different contents, three constants


def test_a_nan_decision_is_guarded():
    def f(x):
        return np.sum(x) * (2.0 if np.isnan(float(np.max(x))) else 3.0)

    cf = wg.compile(f)
    for x in (np.array([np.nan, 1.0]), np.array([np.nan, 2.0]), X):
        _same(cf(x), f(x))


def test_a_write_into_an_argument_before_a_decision_raises():
    def f(x):
        x += 1.0
        if np.sum(x) > 0:
            return np.sum(x)
        return -np.sum(x)

    with pytest.raises(wg.DifferentiationError, match="writes into an argument"):
        wg.compile(f)(X.copy())

    def g(x):   # the decision first: fine
        positive = bool(np.sum(x) > 0)
        x += 1.0
        return np.sum(x) if positive else -np.sum(x)

    y = X.copy()
    cg = wg.compile(g)
    cg(y)
    cg(y)
    _same(y, X + 2.0)


def test_an_argument_of_another_array_kind_is_refused():
    with pytest.raises(wg.DifferentiationError, match="takes the arrays of the libraries"):
        wg.compile(lambda x: np.sum(x))(np.ma.masked_array(X))
