"""Derivatives of NumPy code on Dask arrays, in both modes, against finite differences: one
table of functions over elementwise code, reductions, products, indexing, reshapes, joins and
dask.array.linalg, with the data in Dask and the parameters in NumPy, or both in Dask."""
import numpy as np
import pytest

from _check import check_dask, da

_rng = np.random.default_rng(7)


def chunked(*shape, chunks=2, dtype=np.float64):
    return da.from_array(_rng.standard_normal(shape).astype(dtype), chunks=chunks)


def positive_definite(n, chunks=None):
    a = _rng.standard_normal((n, n))
    return da.from_array(a @ a.T + n * np.eye(n), chunks=chunks or n)


def symmetric(a):
    return (a + a.T) / 2


def written(x):
    """Writes into an array that holds traced values."""
    y = np.zeros_like(x) + x
    y[0] = 1.0
    y[1:3, 0] += x[0, :2] * 3
    return y * x


X, Y = chunked(4, 3), chunked(4, 3)
W = _rng.standard_normal((3, 5))
W_DASK = da.from_array(W, chunks=(3, 2))
TALL = chunked(5, 3, chunks=(2, 3))

CASES = {
    # elementwise, broadcasting
    "sin times x": (lambda x: np.sin(x) * x, X),
    "log1p of exp": (lambda x: np.log(np.exp(x) + 1.0), X),
    "tanh times y": (lambda x, y: np.tanh(x) * y, X, Y),
    "broadcast row": (lambda x, b: x + b, X, chunked(3)),
    "broadcast NumPy row": (lambda x, b: x * b, X, _rng.standard_normal(3)),
    "sqrt of abs": (lambda x: np.sqrt(np.abs(x) + 1), X),
    "where": (lambda x: np.where(x > 0, x, 0.1 * x), X),
    "maximum": (lambda x, y: np.maximum(x, y), X, Y),
    "power": (lambda x: (x * x + 1) ** 1.5, X),
    "logaddexp": (lambda x, y: np.logaddexp(x, y), X, Y),
    # reductions
    "sum": (lambda x: np.sum(x ** 2), X),
    "sum over an axis": (lambda x: np.sum(x, axis=0), X),
    "mean": (lambda x: np.mean(x, axis=1), X),
    "max": (lambda x: np.max(x, axis=1), X),
    "log-sum-exp": (lambda x: np.log(np.sum(np.exp(x), axis=1)), X),
    "method sum": (lambda x: (x * x).sum(axis=1, keepdims=True), X),
    # products
    "Dask data, NumPy weights": (lambda x, w: x @ w, X, W),
    "NumPy weights, Dask data": (lambda w, x: w.T @ x.T, W, X),
    "both in Dask": (lambda x, w: x @ w, X, W_DASK),
    "dot": (lambda x, w: np.dot(x, w), X, W),
    "einsum": (lambda x, y: np.einsum("ij,ij->i", x, y), X, Y),
    "tensordot": (lambda x, y: np.tensordot(x, y, axes=([0], [0])), X, Y),
    "a network layer": (lambda w, x: np.sum(np.tanh(x @ w) ** 2), W, X),
    "logistic loss": (lambda w, x, y: np.sum(np.logaddexp(0, -y * (x @ w))),
                      _rng.standard_normal(3), X, chunked(4)),
    # indexing
    "slices": (lambda x: x[1:3, ::2], X),
    "reversed, negative": (lambda x: x[::-1, -1], X),
    "integer list": (lambda x: x[:, [0, 2]], X),
    "repeated rows": (lambda x: x[[0, 0, 2]], X),
    "repeated columns": (lambda x: x[:, [1, 1]], X),
    "boolean mask": (lambda x: x[np.array([True, False, True, True])], X),
    "new axes, ellipsis": (lambda x: x[None, 1, ..., None], X),
    # copies and writes
    "copy": (lambda x: x.copy() * x, X),   # the method: np.copy of plain Dask warns
    "writes": (written, X),
    # shapes and joins
    "reshape": (lambda x: np.reshape(x, (12,)), X),
    "method reshape": (lambda x: x.reshape((2, 2, 3)), X),
    "transpose": (lambda x: x.T * 2, X),
    "concatenate": (lambda x, y: np.concatenate([x, y], axis=1), X, Y),
    "stack": (lambda x, y: np.stack([x, y]), X, Y),
    # linear algebra
    "np.linalg.solve": (lambda a, b: np.linalg.solve(a, b), positive_definite(3),
                        chunked(3, 2, chunks=(3, 2))),
    "np.linalg.inv": (lambda a: np.linalg.inv(a), positive_definite(3)),
    "np.linalg.qr": (lambda a: np.linalg.qr(a)[1], TALL),
    "np.linalg.svd": (lambda a: np.linalg.svd(a, full_matrices=False)[1], TALL),
    "da cholesky, lower": (lambda a: da.linalg.cholesky(symmetric(a), lower=True),
                           positive_definite(3)),
    "da cholesky, upper": (lambda a: da.linalg.cholesky(symmetric(a)), positive_definite(3)),
    "da cholesky, 2x2 blocks": (lambda a: da.linalg.cholesky(symmetric(a), lower=True),
                                positive_definite(4, chunks=2)),
    "cholesky log-determinant": (
        lambda a: 2 * np.sum(np.log(np.diagonal(da.linalg.cholesky(symmetric(a))))),
        positive_definite(3)),
    "da solve_triangular": (lambda a, b: da.linalg.solve_triangular(a, b, lower=True),
                            positive_definite(3), chunked(3, 2, chunks=(3, 2))),
    "da solve_triangular, vector": (lambda a, b: da.linalg.solve_triangular(a, b),
                                    positive_definite(3), chunked(3, chunks=3)),
    "da solve": (lambda a, b: da.linalg.solve(a, b), positive_definite(3),
                 chunked(3, 2, chunks=(3, 2))),
    "da inv": (lambda a: da.linalg.inv(a), positive_definite(3)),
    "da qr": (lambda a: da.linalg.qr(a)[0], TALL),
    "da svd": (lambda a: da.linalg.svd(a)[1], TALL),
}


@pytest.mark.parametrize("name", list(CASES))
def test_both_modes_against_finite_differences(name):
    f, *args = CASES[name]
    check_dask(f, *args)


@pytest.mark.parametrize("name", ["sin times x", "a network layer", "sum over an axis",
                                  "integer list", "np.linalg.solve"])
def test_float32(name):
    f, *args = CASES[name]
    args = [a.astype(np.float32) for a in args]
    check_dask(f, *args, rtol=2e-2, atol=2e-3, eps=1e-2)
