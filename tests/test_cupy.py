"""CuPy arrays: the same code as for NumPy, on a GPU. Skipped without CuPy or a CUDA device.

Gradients of CuPy arguments are CuPy arrays, equal to NumPy's for the same numbers."""
import numpy as np
import pytest

import wengert as wg

cp = pytest.importorskip("cupy")
try:
    if cp.cuda.runtime.getDeviceCount() < 1:
        pytest.skip("no CUDA device", allow_module_level=True)
except Exception as error:   # no driver, no runtime
    pytest.skip(f"no CUDA device ({error})", allow_module_level=True)


def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2) + 0.5 * np.sum(w * w)


@pytest.mark.parametrize("f", [
    loss,
    lambda w, x: np.sum(np.linalg.solve(x.T @ x + np.eye(3, like=x), w) ** 2),
    lambda w, x: np.sum(x[[0, 0, 2]] @ w) + np.sum(np.concatenate([w, w]) ** 3),
], ids=["network", "solve", "indexing"])
def test_a_cupy_argument_gets_a_cupy_gradient(f):
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((5, 3))
    g = wg.gradient(f, cp.asarray(w), cp.asarray(x))
    expected = wg.gradient(f, w, x)
    for got, want in zip(g, expected):
        assert isinstance(got, cp.ndarray)
        np.testing.assert_allclose(cp.asnumpy(got), want, rtol=1e-10)


def test_the_stand_ins_workloads_on_cupy():
    # tests/test_foreign_arrays.py runs these on a CPU stand-in for CuPy; here, on CuPy itself.
    from test_foreign_arrays import WORKLOADS, W, X

    for name, f in WORKLOADS.items():
        got = wg.gradient(f, cp.asarray(W), cp.asarray(X))
        for g, want in zip(got, wg.gradient(f, W, X)):
            assert isinstance(g, cp.ndarray), name
            np.testing.assert_allclose(cp.asnumpy(g), want, rtol=1e-8, atol=1e-10, err_msg=name)
