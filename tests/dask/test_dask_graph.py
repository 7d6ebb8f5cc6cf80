"""The task graphs of Dask gradients: as many tasks as a hand-written gradient of the same
loss, elementwise pullbacks of one layer each that still give 0 (not NaN) at poles."""
import warnings

import numpy as np
import pytest

import wengert as wg
from wengert.arraytypes import record_of
from _check import da

dask = pytest.importorskip("dask")


def logistic_loss(w, x, y, penalty=1e-3):
    return np.mean(np.logaddexp(0.0, -y * (x @ w))) + 0.5 * penalty * np.sum(w * w)


def logistic_by_hand(w, x, y, penalty=1e-3):
    """The loss and its gradient written out: d logaddexp(0, z) / dz is 1 / (1 + exp(-z))."""
    margin = -y * (x @ w)
    value = np.mean(np.logaddexp(0.0, margin)) + 0.5 * penalty * np.sum(w * w)
    weight = -y / (1.0 + np.exp(-margin))
    return value, x.T @ weight / x.shape[0] + penalty * w


def tasks(*arrays):
    graph = {}
    for a in arrays:
        graph.update(dict(a.__dask_graph__()))
    return len(graph)


@pytest.mark.parametrize("chunks", [8, 20])
def test_a_gradient_has_the_tasks_of_a_hand_written_one(chunks):
    rows = 500 * chunks
    x = da.random.RandomState(0).standard_normal((rows, 10), chunks=(500, 10))
    y = np.sign(x @ np.linspace(-1.0, 1.0, 10))
    w = da.from_array(np.full(10, 0.01))
    ours = wg.value_and_grad(logistic_loss)(w, x, y)
    theirs = logistic_by_hand(w, x, y)
    # As built, before Dask's optimization fuses layers: at most 5% more tasks.
    assert tasks(*ours) <= 1.05 * tasks(*theirs), (tasks(*ours), tasks(*theirs))
    assert tasks(*dask.optimize(*ours)) <= 1.05 * tasks(*dask.optimize(*theirs))
    np.testing.assert_allclose(*dask.compute(ours[1], theirs[1]), rtol=1e-10)


def elementwise_layers(g):
    return [name for name in g.__dask_graph__().layers if name.startswith("pullback-")]


def test_an_elementwise_pullback_is_one_layer():
    x = da.from_array(np.linspace(0.5, 2.0, 6).reshape(2, 3), chunks=(1, 3))
    g = wg.gradient(lambda x: np.sum(np.log(x)), x)[0]
    assert len(elementwise_layers(g)) == 1
    np.testing.assert_allclose(g.compute(), 1 / x.compute())


POLES = np.array([[0.0, 1.0, 4.0], [9.0, 0.0, 0.25]])
SQRT_SLOPE = np.where(POLES != 0, 0.5 / np.sqrt(np.where(POLES != 0, POLES, 1)), 0)


def computed_quietly(g):
    """``g`` computed, with NumPy's warnings as errors: the poles are masked, not reported."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return g.compute()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_zero_cotangent_at_a_pole_gives_zero_in_reverse_mode(dtype):
    x = da.from_array(POLES.astype(dtype), chunks=(1, 2))
    ct = da.from_array((POLES != 0).astype(dtype), chunks=(1, 2))
    _, back = wg.pullback(np.sqrt, x)
    g = back(ct)[0]
    assert g.dtype == dtype and len(elementwise_layers(g)) == 1
    np.testing.assert_allclose(computed_quietly(g), SQRT_SLOPE, rtol=1e-6)
    # A selection's zeros: the branch np.where did not take leaks no NaN.
    g = wg.gradient(lambda x: np.sum(np.where(x > 0, np.sqrt(x), 0.0)), x)[0]
    np.testing.assert_allclose(computed_quietly(g), SQRT_SLOPE, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_zero_tangent_at_a_pole_gives_zero_in_forward_mode(dtype):
    x = da.from_array(POLES.astype(dtype), chunks=(1, 2))
    t = da.from_array((POLES != 0).astype(dtype), chunks=(1, 2))
    _, dy = wg.jvp(np.sqrt, (x,), (t,))
    assert dy.dtype == dtype and len(elementwise_layers(dy)) == 1
    np.testing.assert_allclose(computed_quietly(dy), SQRT_SLOPE, rtol=1e-6)
    _, dy = wg.jvp(lambda x: np.where(x > 0, np.log(x), 0.0), (x,), (t,))
    expected = np.where(POLES != 0, 1 / np.where(POLES != 0, POLES, 1), 0)
    np.testing.assert_allclose(computed_quietly(dy), expected, rtol=1e-6)


def test_complex_pullbacks_conjugate_the_partial_as_for_numpy():
    z = np.array([[1 + 2j, -0.5 + 0.3j], [0.2 - 1j, 2 + 0j]])
    c = np.array([0.5 - 1j, 2 + 1j])

    def f(z):
        return np.exp(z) * c + z * z

    ct = np.array([[1 - 1j, 0.5j], [2 + 0j, -1 + 0.5j]])
    expected = wg.pullback(f, z)[1](ct)[0]
    g = wg.pullback(f, da.from_array(z, chunks=(1, 2)))[1](da.from_array(ct))[0]
    np.testing.assert_allclose(g.compute(), expected)


def test_broadcast_arguments_are_summed_back():
    x = da.from_array(np.linspace(0.5, 2.0, 6).reshape(2, 3), chunks=(1, 2))
    y = np.array([1.0, 0.0, 3.0])
    gx, gy = wg.gradient(lambda x, y: np.sum(x / (y + 1) + np.sqrt(x * y)), x, y)
    nx, ny = wg.gradient(lambda x, y: np.sum(x / (y + 1) + np.sqrt(x * y)), x.compute(), y)
    np.testing.assert_allclose(gx.compute(), nx)
    np.testing.assert_allclose(np.asarray(gy), ny)


def test_a_partial_closing_over_an_array_takes_the_general_path():
    x = da.from_array(np.array([1.0, 2.0, 3.0]), chunks=2)
    product = record_of(x).masked_product
    whole = da.from_array(np.array([4.0, 5.0, 6.0]), chunks=2)
    assert product(da.ones(3, chunks=2), lambda x, out: whole, (x,), x, False) is None
    # one that reads its argument's elements only is one layer, the output left out
    g = product(da.ones(3, chunks=2), lambda x, out: 2 * x, (x,), x + 1, False)
    assert len(g.__dask_graph__().layers) == 3   # ones, x and the product: not x + 1
    np.testing.assert_allclose(g.compute(), [2.0, 4.0, 6.0])
