"""What Dask arrays get beyond the rules: lazy results of the argument's type, nested
derivatives, support that loads only with Dask, and clear errors where Dask falls short."""
import subprocess
import sys

import numpy as np
import pytest

import wengert as wg
from _check import da, numpy_copy

dask = pytest.importorskip("dask")

X = da.from_array(np.array([[0.3, -0.5, 0.9], [1.2, 0.1, -0.7]]), chunks=(1, 3))


def loss(x):
    return np.sum(np.sin(x) * x ** 2) + np.sum(x[:, [0, 0]] ** 3)


def _no_computing(*args, **kwargs):
    raise AssertionError("a Dask computation ran while differentiating")


@pytest.mark.parametrize("transform", [
    lambda x: wg.gradient(loss, x)[0],
    lambda x: wg.value_and_grad(loss)(x)[1],
    lambda x: wg.pullback(lambda x: np.tanh(x) @ x.T, x)[1](da.ones((2, 2)))[0],
    lambda x: wg.jvp(loss, (x,), (da.ones_like(x),))[1],
    lambda x: wg.hessian(lambda x: np.sum(np.sin(x) * x ** 2), x),
    lambda x: wg.jacobian(lambda x: np.exp(x[0]) * 2, x)[0],
], ids=["gradient", "value_and_grad", "pullback", "jvp", "hessian", "jacobian"])
def test_differentiation_computes_nothing(transform):
    with dask.config.set(scheduler=_no_computing):
        result = transform(X)
        with pytest.raises(AssertionError, match="computation ran"):
            result.compute()   # the guard itself works
    assert isinstance(result, da.Array)
    assert np.all(np.isfinite(result.compute()))


def test_blocks_run_only_when_computed():
    calls = []

    def counted(block):
        calls.append(block.shape)
        return block * 1.0

    x = da.map_blocks(counted, da.from_array(np.linspace(0.1, 1.0, 6), chunks=3))
    g = wg.gradient(lambda x: np.sum(np.exp(x)), x)[0]
    assert (3,) not in calls   # Dask may probe the function with tiny blocks, never the data
    np.testing.assert_allclose(g.compute(), np.exp(np.linspace(0.1, 1.0, 6)))
    assert (3,) in calls


def test_gradient_types_follow_the_arguments():
    w = np.array([0.5, -1.0, 2.0])
    f = lambda w, x: np.sum(np.logaddexp(0.0, x @ w))
    g_w, g_x = wg.gradient(f, w, X)
    assert type(g_w) is np.ndarray    # a NumPy parameter's gradient is computed for it
    assert isinstance(g_x, da.Array)
    g_w_dask, _ = wg.gradient(f, da.from_array(w), X)
    assert isinstance(g_w_dask, da.Array)
    np.testing.assert_allclose(g_w_dask.compute(), g_w)
    np.testing.assert_allclose(g_x.compute(), wg.gradient(f, w, X.compute())[1])


@pytest.mark.parametrize("nesting", ["reverse over reverse", "forward over forward",
                                     "reverse over forward", "forward over reverse"])
def test_second_derivatives(nesting):
    f = lambda x: np.sum(np.sin(x) * x ** 2) + np.sum(x[:, [2, 2]] ** 3)
    v = np.ones(X.shape)

    def directional(x):
        if nesting.endswith("reverse"):
            return np.sum(wg.gradient(f, x)[0] * v)
        return wg.jvp(f, (x,), (np.ones_like(x),))[1]

    if nesting.startswith("reverse"):
        got = wg.gradient(directional, X)[0]
    else:
        got = wg.jvp(directional, (X,), (da.ones_like(X),))[1]
        got = got * np.ones(X.shape)   # to compare with the vector below
    assert isinstance(got, da.Array)
    expected = wg.hessian(f, X.compute()).reshape(6, 6) @ v.ravel()
    if nesting.startswith("forward"):
        np.testing.assert_allclose(got.compute(), np.full(X.shape, expected.sum()))
    else:
        np.testing.assert_allclose(got.compute().ravel(), expected)


@pytest.mark.parametrize("call, message", [
    (lambda a: np.linalg.slogdet(a)[1], "Dask has no dask.array.linalg.slogdet"),
    (lambda a: np.linalg.det(a), "Dask has no dask.array.linalg.det"),
    (lambda a: np.linalg.eigh(a)[0], "Dask has no dask.array.linalg.eigh"),
    (lambda a: np.kron(a, a), "Dask has no dask.array.kron"),
    (lambda a: np.sort(a), "Dask has no dask.array.sort"),
    (lambda a: np.linalg.cholesky(a), "lower=True"),
    (lambda a: np.linalg.svd(a[:, :2])[1], "full_matrices=False"),
    (lambda a: np.linalg.qr(a, mode="raw")[0], "reduced factors only"),
])
def test_what_dask_lacks_is_an_error(call, message):
    a = da.from_array(np.eye(3) * 2.0 + 0.1, chunks=3)
    with pytest.raises(wg.DifferentiationError, match=message):
        wg.gradient(lambda a: np.sum(call(a)), a)


def test_an_index_dask_cannot_write_at_is_an_error():
    f = lambda x: np.sum(x[[0, 0], 1:])
    with pytest.raises(wg.DifferentiationError, match="cannot be written into"):
        wg.gradient(f, X)


def test_the_loss_may_close_over_dask_data():
    data = X * 2.0
    g = wg.gradient(lambda w: np.sum((data @ w) ** 2), np.ones(3))[0]
    expected = 2 * numpy_copy(data).T @ (numpy_copy(data) @ np.ones(3))
    np.testing.assert_allclose(g, expected)


def _run(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_importing_wengert_imports_no_dask():
    assert _run("import sys, wengert; print(sorted(m for m in sys.modules "
                "if m.split('.')[0] in ('dask', 'distributed')))").strip() == "[]"


def test_support_loads_when_dask_is_imported_after_wengert():
    out = _run("import numpy as np, wengert as wg, dask.array as da\n"
               "g = wg.gradient(lambda x: np.sum(x ** 2), da.ones(3, chunks=2))[0]\n"
               "print(type(g).__module__, g.compute().tolist())")
    assert out.split() == ["dask.array.core", "[2.0,", "2.0,", "2.0]"]


def test_numpy_tangents_and_cotangents_of_dask_values_come_back_as_dask():
    _, dy = wg.jvp(lambda x: np.sin(x) * 2, (X,), (np.ones(X.shape),))
    assert isinstance(dy, da.Array)
    np.testing.assert_allclose(dy.compute(), 2 * np.cos(X.compute()))
    y, back = wg.pullback(lambda x: np.sin(x) * 2, X)
    g = back(np.ones(X.shape))[0]
    assert isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(), 2 * np.cos(X.compute()))
    # a Dask argument the output ignores still gets a Dask (zero) gradient
    g = wg.gradient(lambda x, w: np.sum(w ** 2), X, np.ones(2))[0]
    assert isinstance(g, da.Array) and not np.any(g.compute())


def test_an_integer_dask_argument_is_refused_by_its_dtype():
    with pytest.raises(wg.DifferentiationError, match="array of dtype int64, which has no"):
        wg.gradient(lambda x: np.sum(x * 1.0), da.arange(3, chunks=2))


A = da.from_array(np.array([0.3, -0.5, 0.9]), chunks=2)
F = lambda x: np.sum(np.sin(x) * x ** 2)


@pytest.mark.parametrize("entry, numpy_entry", [
    (lambda: wg.gradient(lambda x: np.sum(wg.checkpoint(np.sin)(x) * x), A)[0],
     lambda a: np.sin(a) + a * np.cos(a)),
    (lambda: wg.gradient(lambda: F(A), wg.Params([A]))[A],
     lambda a: 2 * a * np.sin(a) + a * a * np.cos(a)),
    (lambda: wg.ravel([A, A])[0], lambda a: np.concatenate([a, a])),
    (lambda: wg.grad(lambda w, x: np.sum(x * w), argnums=(0, 1))(A, A * 2)[1], lambda a: a),
    (lambda: wg.gradient(lambda x: np.sum(wg.stop_gradient(x) * x), A)[0], lambda a: a),
    (lambda: wg.gradient(lambda x: np.sum(wg.forwarddiff(np.sin, x)), A)[0], np.cos),
], ids=["checkpoint", "Params", "ravel", "grad argnums", "stop_gradient", "forwarddiff"])
def test_every_entry_point_keeps_dask(entry, numpy_entry):
    got = entry()
    assert isinstance(got, da.Array)
    np.testing.assert_allclose(got.compute(), numpy_entry(A.compute()))


def test_a_dask_parameter_cannot_be_updated_in_place():
    ps = wg.Params([A])
    gs = wg.gradient(lambda: F(A), ps)
    with pytest.raises(wg.DifferentiationError, match="cannot be updated in place"):
        wg.update(ps, gs, 0.1)
