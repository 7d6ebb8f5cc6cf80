"""Levels are ranked by creation and never tie: a transformation opened inside a pullback,
inside a worker thread, or after its neighbours closed is the innermost one wherever its
tracers meet older ones, whatever the order of the arguments."""
import threading

import numpy as np
import pytest

import wengert as wg


@wg.primitive
def cube(x):
    return x ** 3


@wg.rrule(cube)
def _(x):
    def back(ct):   # hands its work to forward mode, with the cotangent inside
        return (wg.derivative(lambda z: ct * z ** 3, x),)
    return x ** 3, back


@pytest.mark.parametrize("outer", ["derivative", "gradient"])
def test_derivative_with_respect_to_the_cotangent_of_a_rule_that_nests(outer):
    _, back = wg.pullback(cube, 2.0)
    d = wg.derivative if outer == "derivative" else lambda f, c: wg.gradient(f, c)[0]
    assert d(lambda c: back(c)[0], 1.0) == pytest.approx(12.0, rel=1e-14)


def test_second_derivative_through_that_rule():
    # d/dx of 3x² is 6x: the rule's forward pass inside the pullback is differentiated too.
    assert wg.derivative(lambda x: wg.gradient(cube, x)[0], 2.0) == pytest.approx(12.0)
    assert wg.gradient(lambda x: wg.gradient(cube, x)[0], 2.0)[0] == pytest.approx(12.0)


def _in_thread(fn):
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("value", fn()))
    worker.start()
    worker.join(timeout=30)
    return result["value"]


@pytest.mark.parametrize("inner", ["derivative", "gradient"])
@pytest.mark.parametrize("outer", ["derivative", "gradient"])
@pytest.mark.parametrize("traced_first", [True, False], ids=["x*z", "z*x"])
def test_nested_derivative_in_a_worker_thread(outer, inner, traced_first):
    d_inner = wg.derivative if inner == "derivative" else lambda f, z: wg.gradient(f, z)[0]
    d_outer = wg.derivative if outer == "derivative" else lambda f, x: wg.gradient(f, x)[0]

    def f(x):
        g = (lambda z: x * z ** 2) if traced_first else (lambda z: z ** 2 * x)
        return _in_thread(lambda: d_inner(g, 3.0))   # 6x
    assert d_outer(f, 1.0) == pytest.approx(6.0, rel=1e-14)


@pytest.mark.parametrize("traced_first", [True, False])
def test_pullback_called_inside_a_later_transformation(traced_first):
    # back runs under a forward level opened after its own reverse level closed: the
    # forward level's tracers (the scale s) are outer to nothing the tape holds.
    x = np.array([0.5, 1.5])
    _, back = wg.pullback(lambda x: np.sin(x) * x, x)

    def h(s):
        ct = s * np.ones(2) if traced_first else np.ones(2) * s
        return np.sum(back(ct)[0] * s)
    expected = 2 * np.sum(np.cos(x) * x + np.sin(x))   # d/ds of s² Σ(cos x·x + sin x)
    assert wg.derivative(h, 1.0) == pytest.approx(expected, rel=1e-13)
    assert wg.gradient(h, 1.0)[0] == pytest.approx(expected, rel=1e-13)


def test_many_threads_at_once_never_confuse_levels():
    results = [None] * 8

    def work(k):
        results[k] = wg.gradient(lambda x: wg.derivative(lambda z: x * z ** 3, float(k)),
                                 2.0)[0]
    workers = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert results == [pytest.approx(3.0 * k * k) for k in range(8)]
