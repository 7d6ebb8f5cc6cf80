"""The cost of a wengert gradient on a Dask cluster, against a hand-written Dask gradient.

Logistic regression (the loss of examples/distributed_regression.py) at a moderate size, on a
LocalCluster of 2 worker processes. Reports:

- time: the loss alone, the loss and wengert's gradient computed together, and the loss and
  the hand-written gradient computed together (the median of several runs each);
- graph size: the tasks in each graph, as built and after Dask's optimization.

    python benchmarks/dask_graph.py [--rows N] [--features D] [--chunk-rows C] [--repeat R]
"""
import argparse
import statistics
import time

import numpy as np
import dask
import dask.array as da
from dask.distributed import Client, LocalCluster

import wengert as wg


def loss(w, x, y, penalty=1e-3):
    return np.mean(np.logaddexp(0.0, -y * (x @ w))) + 0.5 * penalty * np.sum(w * w)


def hand_written(w, x, y, penalty=1e-3):
    """The loss and its gradient, written out with the same operations."""
    z = -y * (x @ w)
    value = np.mean(np.logaddexp(0.0, z)) + 0.5 * penalty * np.sum(w * w)
    weight = -y / (1.0 + np.exp(-z))      # d logaddexp(0, z) / dz, times dz/d(x @ w)
    return value, x.T @ weight / x.shape[0] + penalty * w


def task_count(*collections, optimize):
    if optimize:
        collections = dask.optimize(*collections)
    graph = {}
    for c in collections:
        graph.update(dict(c.__dask_graph__()))
    return len(graph)


def median_seconds(compute, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        compute()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    state = da.random.RandomState(0)
    shape, chunks = (options.rows, options.features), (options.chunk_rows, options.features)
    # Persisted: the timings are of the loss and gradient, not of generating the data.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        x = state.standard_normal(shape, chunks=chunks)
        y = np.sign(x @ np.linspace(-1.0, 1.0, options.features))
        x, y = dask.persist(x, y)
        w = da.from_array(np.full(options.features, 0.01))
        ours = wg.value_and_grad(loss)(w, x, y)
        theirs = hand_written(w, x, y)
        value = loss(w, x, y)
        np.testing.assert_allclose(*dask.compute(ours[1], theirs[1]), rtol=1e-10)

        print(f"logistic regression, {options.rows:,} x {options.features} float64 in chunks "
              f"of {options.chunk_rows:,} rows, 2 worker processes; median of "
              f"{options.repeat} runs")
        t_value = median_seconds(lambda: dask.compute(value), options.repeat)
        t_ours = median_seconds(lambda: dask.compute(*ours), options.repeat)
        t_theirs = median_seconds(lambda: dask.compute(*theirs), options.repeat)
        print(f"  loss alone                       {t_value:8.3f} s")
        print(f"  loss + wengert gradient          {t_ours:8.3f} s  "
              f"({t_ours / t_value:.2f}x the loss)")
        print(f"  loss + hand-written gradient     {t_theirs:8.3f} s  "
              f"({t_theirs / t_value:.2f}x the loss)")
        for optimize in (False, True):
            n_ours = task_count(*ours, optimize=optimize)
            n_theirs = task_count(*theirs, optimize=optimize)
            n_grad_ours = task_count(ours[1], optimize=optimize)
            n_grad_theirs = task_count(theirs[1], optimize=optimize)
            label = "optimized" if optimize else "as built"
            print(f"  tasks, {label:9s}: loss+gradient {n_ours} (wengert) vs {n_theirs} "
                  f"(hand-written), {100 * (n_ours / n_theirs - 1):+.1f}%; gradient alone "
                  f"{n_grad_ours} vs {n_grad_theirs}, "
                  f"{100 * (n_grad_ours / n_grad_theirs - 1):+.1f}%")


if __name__ == "__main__":
    main()
