"""A gradient graph runs on the workers of a dask.distributed cluster (loopback only)."""
import numpy as np
import pytest

import wengert as wg
from _check import da

distributed = pytest.importorskip("dask.distributed")


def test_gradient_runs_on_cluster_workers():
    x = da.from_array(np.random.default_rng(0).standard_normal((400, 5)), chunks=(100, 5))
    y = np.sign(x @ np.arange(1.0, 6.0))
    w = da.from_array(np.full(5, 0.1))
    loss = lambda w, x, y: np.mean(np.logaddexp(0.0, -y * (x @ w)))
    # In-process workers talk through memory, not sockets: nothing leaves the machine.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster) as client:
        value, grad = wg.value_and_grad(loss)(w, x, y)
        with distributed.get_task_stream(client) as stream:
            value, grad = client.compute([value, grad], sync=False)
            value, grad = value.result(timeout=60), grad.result(timeout=60)
        workers = {task["worker"] for task in stream.data}
    assert len(workers) >= 1 and None not in workers
    assert len(stream.data) > 8   # the chunks' tasks, not one local call
    xn, yn = x.compute(), y.compute()
    expected = wg.value_and_grad(loss)(np.full(5, 0.1), xn, yn)
    np.testing.assert_allclose(value, expected[0])
    np.testing.assert_allclose(grad, expected[1])


def test_a_refused_scipy_call_leaves_the_cluster_as_the_scheduler():
    import threading

    import dask
    import scipy.linalg

    from wengert.arraytypes import record_of

    a = da.from_array(np.eye(3) * 2.0, chunks=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster) as client:
        before = dask.config.get("scheduler", None)
        with pytest.raises(wg.DifferentiationError, match="scipy.linalg.inv would compute"):
            wg.gradient(lambda a: np.sum(scipy.linalg.inv(a)), a)
        assert dask.config.get("scheduler", None) == before
        # While one thread refuses, another computes on the cluster as it would have.
        results = []
        with record_of(a).refusing_conversion(), distributed.get_task_stream(client) as stream:
            worker = threading.Thread(target=lambda: results.append(a.sum().compute()))
            worker.start()
            worker.join()
        assert results == [6.0] and len(stream.data) > 0
