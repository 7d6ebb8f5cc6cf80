"""wengert.optim: SGD (momentum) and Adam, functional over trees and in place over Params,
checked step by step against the update formulas written out in NumPy."""
import dataclasses

import numpy as np
import pytest

import wengert as wg
from wengert import optim


def adam_by_hand(p, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p


def sgd_by_hand(p, grads, lr, momentum):
    velocity = np.zeros_like(p)
    for g in grads:
        velocity = momentum * velocity + g
        p = p - lr * velocity
    return p


GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.2]), np.array([-1.0, 0.0, 4.0])]
OPTIMIZERS = {
    "sgd": (lambda: optim.SGD(0.1), lambda p: sgd_by_hand(p, GRADS, 0.1, 0.0)),
    "momentum": (lambda: optim.SGD(0.1, momentum=0.9), lambda p: sgd_by_hand(p, GRADS, 0.1, 0.9)),
    "adam": (lambda: optim.Adam(lr=0.05), lambda p: adam_by_hand(p, GRADS, 0.05)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_functional_steps_follow_the_formula_and_modify_nothing(name):
    make, by_hand = OPTIMIZERS[name]
    opt = make()
    p0 = np.array([1.0, 2.0, 3.0])
    params = {"w": p0, "steps": 7}
    state = opt.init(params)
    for g in GRADS:
        params, state = opt.step(params, {"w": g, "steps": None}, state)
    np.testing.assert_allclose(params["w"], by_hand(p0), rtol=1e-12)
    np.testing.assert_array_equal(p0, [1.0, 2.0, 3.0])   # the original tree is untouched
    assert params["steps"] == 7 and state["count"] == 3


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_in_place_steps_over_params_follow_the_formula(name):
    make, by_hand = OPTIMIZERS[name]
    opt = make()
    w = np.array([1.0, 2.0, 3.0])
    alias = w
    ps = wg.Params([w])
    for g in GRADS:
        opt.step(ps, wg.gradient(lambda: np.sum(g * w), ps))
    np.testing.assert_allclose(w, by_hand(np.array([1.0, 2.0, 3.0])), rtol=1e-12)
    assert alias is w   # the same array object, changed in place


@dataclasses.dataclass
class Layer:
    weight: np.ndarray
    bias: float
    width: int


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_model_tree_trains_its_float_leaves_and_keeps_their_kinds(name):
    opt = OPTIMIZERS[name][0]()
    model = Layer(np.ones((2, 2), dtype=np.float32), 0.5, 3)

    def loss(m):
        return np.sum((m.weight - 2.0) ** 2) + (m.bias + 1.0) ** 2

    state = opt.init(model)
    first = loss(model)
    for _ in range(100):
        model, state = opt.step(model, wg.gradient(loss, model)[0], state)
    assert loss(model) < 0.1 * first
    assert isinstance(model, Layer) and model.width == 3
    assert model.weight.dtype == np.float32 and type(model.bias) is float


def test_state_is_a_tree_like_the_parameters():
    state = optim.Adam().init({"a": np.zeros(2), "b": [np.ones(3), 4]})
    assert set(state) == {"count", "m", "v"}
    assert state["m"]["b"][1] is None and state["m"]["b"][0].shape == (3,)


def test_mismatched_gradients_or_missing_state_are_clear_errors():
    opt = optim.Adam()
    params = [np.zeros(2), np.zeros(3)]
    with pytest.raises(wg.DifferentiationError, match="state of opt.init"):
        opt.step(params, params)
    with pytest.raises(wg.DifferentiationError, match="2 leaves expected, 1 given"):
        opt.step(params, [np.zeros(2)], opt.init(params))
    with pytest.raises(wg.DifferentiationError, match="wg.Params"):
        opt.step(wg.Params(params), params)
