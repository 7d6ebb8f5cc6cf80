"""``wg.compile`` of functions of Dask arrays: the program is NumPy calls that Dask answers
lazily (and the calls Dask's record maps NumPy's to), so running it builds a task graph, as an
uncompiled call does, and computes nothing."""
import contextlib

import numpy as np
import pytest

import wengert as wg

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

RNG = np.random.default_rng(0)
X = RNG.uniform(0.2, 1.5, (6, 3))
W = RNG.standard_normal(3)
SPD = X.T @ X + 3.0 * np.eye(3)


def _refuse_to_compute(*args, **kwargs):
    raise AssertionError("a Dask array was computed")


def _chunked(x):
    return da.from_array(x, chunks=3)


def _computed(x):
    return x.compute() if isinstance(x, da.Array) else x


FUNCTIONS = {
    "elementwise": (lambda x, w: np.sum(np.sin(x) * x ** 2 + np.exp(-x)) * np.sum(w), (X, W)),
    "reductions": (lambda x, w: np.sum(np.mean(x, axis=0) ** 2 * w) + np.max(x), (X, W)),
    "matmul": (lambda x, w: np.sum(np.tanh(x @ w) ** 2) + 0.5 * w @ w, (X, W)),
    "indexing": (lambda x, w: np.sum(x[1:4, ::2] ** 3) + np.sum(x.T.reshape(-1)[:5] * w[0]),
                 (X, W)),
    "repeated-index": (lambda x, w: np.sum(x[[0, 0, 2]] @ w), (X, W)),
    "concatenate": (lambda x, w: np.sum(np.concatenate([x, x * w]) ** 2), (X, W)),
    "solve": (lambda a, w: np.sum(np.linalg.solve(a, w) ** 2), (SPD, W)),
    "cholesky": (lambda a, w: np.sum(np.log(np.diagonal(da.linalg.cholesky(a, lower=True))))
                 + w @ w, (SPD, W)),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("parameters", ["numpy", "dask"])
def test_a_compiled_gradient_of_dask_data_equals_the_uncompiled_one(name, parameters):
    f, (data, w) = FUNCTIONS[name]
    w = _chunked(w) if parameters == "dask" else w
    g = wg.grad(f, argnums=(0, 1))
    cg = wg.compile(g)
    # Dask parameters: nothing is computed; NumPy ones get NumPy gradients, computed as
    # uncompiled
    for scale in (1.0, 1.5):   # the second call runs the program only
        x = _chunked(data * scale)
        with (dask.config.set(scheduler=_refuse_to_compute) if parameters == "dask"
              else contextlib.nullcontext()):
            got = cg(x, w)
        want = g(x, w)
        for grad, expected, argument in zip(got, want, (x, w)):
            assert type(grad) is type(expected) is type(argument)
            np.testing.assert_allclose(_computed(grad), _computed(expected), rtol=1e-10)


def test_numpy_parameters_of_dask_data_get_numpy_gradients_computed_by_the_program():
    f = lambda w, x: np.sum(np.tanh(x @ w) ** 2)
    cg = wg.compile(wg.grad(f))
    x = _chunked(X)
    got = cg(W, x)
    assert type(got) is np.ndarray   # as uncompiled: a NumPy argument's gradient is NumPy's
    np.testing.assert_allclose(got, wg.grad(f)(W, X), rtol=1e-12)


def test_numpy_and_dask_arguments_are_different_signatures():
    f = lambda x: np.sum(np.sin(x) ** 2)
    cg = wg.compile(wg.grad(f))
    plain, lazy = cg(X), cg(_chunked(X))
    assert type(plain) is np.ndarray and isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), plain, rtol=1e-12)
    assert "x" in cg.source(_chunked(X))


def test_dask_data_the_function_closes_over_is_read_by_the_program():
    data = _chunked(X)
    f = lambda w: np.sum((np.exp(data) @ w) ** 2)
    cg = wg.compile(wg.grad(f))
    for w in (W, 2 * W):
        got = cg(w)
        assert type(got) is np.ndarray
        np.testing.assert_allclose(got, 2 * np.exp(X).T @ (np.exp(X) @ w), rtol=1e-12)


def test_a_decision_on_a_dask_value_is_a_guard_the_program_computes():
    f = lambda x: np.sum(x ** 2) if np.sum(x) > 10.0 else np.sum(x ** 3)
    cg = wg.compile(wg.grad(f))
    for x in (X, 0.1 * X, X):
        np.testing.assert_allclose(cg(_chunked(x)).compute(), wg.grad(f)(x), rtol=1e-12)


def test_what_dask_lacks_is_the_same_error_under_compile():
    f = lambda a: np.linalg.slogdet(a)[1]
    with pytest.raises(wg.DifferentiationError, match="Dask has no dask.array.linalg.slogdet"):
        wg.compile(wg.grad(f))(_chunked(SPD))


def test_a_compiled_jvp_and_hessian_vector_product_of_dask_arrays():
    f = lambda x: np.sum(np.sin(x) * x ** 2)
    jf = wg.compile(lambda x, v: wg.jvp(f, (x,), (v,)))
    hf = wg.compile(lambda x, v: wg.jvp(wg.grad(f), (x,), (v,))[1])
    v = _chunked(np.ones(X.shape))
    for x in (X, 2 * X):
        with dask.config.set(scheduler=_refuse_to_compute):
            (y, dy), hv = jf(_chunked(x), v), hf(_chunked(x), v)
        assert isinstance(dy, da.Array) and isinstance(hv, da.Array)
        np.testing.assert_allclose(dy.compute(), wg.jvp(f, (x,), (np.ones(X.shape),))[1])
        np.testing.assert_allclose(hv.compute(), wg.jvp(wg.grad(f), (x,),
                                                        (np.ones(X.shape),))[1])
