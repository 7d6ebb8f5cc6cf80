"""Implicit parameters: wg.Params, wg.Grads, wg.update and gradient(f, ps).

One table of *reaches* drives the main checks: each entry builds a function of no arguments
that reaches its parameters in one way (a closure, a module global, an attribute, a class
attribute, a default, a partial, ...), and every entry is checked against central finite
differences taken by nudging the parameter arrays in place, and for being itself again
afterwards: the same objects at the same places, with the same values.
"""
import collections
import dataclasses
import functools
import importlib.util
import warnings
import os
import types

import numpy as np
import pytest

import wengert as wg
from wengert import reach as reach_module, references


def nudged_gradient(f, arrays, h=1e-6):
    """∂f/∂p for each array p, by central differences on the arrays themselves."""
    grads = []
    for p in arrays:
        g = np.zeros_like(p)
        for i in range(p.size):
            original = p.flat[i]
            p.flat[i] = original + h
            plus = f()
            p.flat[i] = original - h
            minus = f()
            p.flat[i] = original
            g.flat[i] = (plus - minus) / (2 * h)
        grads.append(g)
    return grads


def assert_gradients(f, ps, **tolerance):
    gs = wg.gradient(f, ps)
    assert isinstance(gs, wg.Grads)
    for (p, g), expected in zip(gs, nudged_gradient(f, list(ps))):
        assert g.shape == p.shape and g.dtype == p.dtype
        np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-7, **tolerance)
    return gs


# ---------------------------------------------------------------------------------------------
# The ways f reaches its parameters
# ---------------------------------------------------------------------------------------------

GLOBAL_W = np.array([0.3, -1.2, 0.8])
GLOBAL_TREE = {"layers": [(np.array([[0.5, -0.1], [0.2, 0.4]]), np.array([0.1, -0.3]))]}
x_input = np.array([0.7, -0.4])
fake_module = types.ModuleType("fake_user_model")
fake_module.weights = np.array([1.5, -0.5])
fake_module.inner = types.ModuleType("fake_user_model.inner")
fake_module.inner.bias = np.array(0.25)


def uses_global():
    return np.sum(np.sin(GLOBAL_W) * GLOBAL_W)


def helper_reading_global(x):
    (w, b), = GLOBAL_TREE["layers"]
    return np.tanh(x @ w + b)


class Dense:
    """A layer that keeps its arrays as attributes."""

    def __init__(self, w, b):
        self.w = w
        self.b = b

    def __call__(self, x):
        return np.tanh(x @ self.w + self.b)


class Scaled:
    """A class attribute and a method reading a module global."""

    scale = np.array(1.7)

    def __call__(self, x):
        return np.sum(GLOBAL_W[:2] * x) * Scaled.scale


class Slotted:
    __slots__ = ("w",)

    def __init__(self, w):
        self.w = w


@dataclasses.dataclass(frozen=True)
class Frozen:
    w: np.ndarray
    label: str = "frozen"


Pair = collections.namedtuple("Pair", "w b")


def closure_case():
    w = np.array([0.4, -0.9, 1.1])
    return (lambda: np.sum(w ** 3)), [w]


def global_case():
    return uses_global, [GLOBAL_W]


def helper_function_case():
    return (lambda: np.sum(helper_reading_global(x_input) ** 2)), list(GLOBAL_TREE["layers"][0])


def container_case():
    model = {"layers": [Pair(np.array([0.3, 0.1]), np.array(0.2)), [np.array([[1.0, -2.0]])]]}

    def f():
        first, second = model["layers"]
        return np.sum(np.exp(first.w) * first.b) + np.sum(second[0] ** 2)
    return f, wg.Params(model)


def attribute_case():
    layers = [Dense(np.array([[0.2, -0.4], [0.6, 0.1]]), np.array([0.05, -0.1])),
              Dense(np.array([[1.0], [-1.0]]), np.array([0.3]))]

    def f():
        h = x_input
        for layer in layers:
            h = layer(h)
        return np.sum(h)
    return f, wg.Params(layers)


def method_case():
    layer = Dense(np.array([[0.2], [0.5]]), np.array([0.1]))
    return (lambda: np.sum(layer(x_input))), wg.Params(layer)


class Model:
    def __init__(self, layer):
        self.layer = layer

    def loss(self):
        return np.sum(self.layer(x_input) ** 2)


def bound_method_case():
    model = Model(Dense(np.array([[0.3], [-0.5]]), np.array([0.2])))
    return model.loss, wg.Params(model)


def class_attribute_case():
    model = Scaled()
    return (lambda: model(x_input)), [Scaled.scale, GLOBAL_W]


def module_case():
    return (lambda: np.sum(fake_module.weights ** 2 * fake_module.inner.bias)), \
        [fake_module.weights, fake_module.inner.bias]


def default_case():
    w = np.array([2.0, -1.0])

    def f(v=w):
        return np.sum(np.cos(v))
    return f, [w]


def partial_case():
    w = np.array([0.5, 1.5])
    return functools.partial(lambda a, x: np.sum(a * x ** 2), w, x_input), [w]


def slots_and_frozen_case():
    slotted, frozen = Slotted(np.array([1.0, 2.0])), Frozen(np.array([0.5]))
    return (lambda: np.sum(slotted.w * frozen.w)), wg.Params([slotted, frozen])


def zero_dimensional_case():
    scale = np.array(1.3)
    return (lambda: np.sum(scale ** 2 * GLOBAL_W)), [scale]


def tuple_in_closure_case():
    pair = (np.array([0.1, 0.2]), np.array([[3.0]]))
    return (lambda: np.sum(pair[0] * pair[1])), list(pair)


REACHES = {
    "closure": closure_case,
    "module global": global_case,
    "function it calls": helper_function_case,
    "nested containers": container_case,
    "object attributes": attribute_case,
    "method": method_case,
    "bound method": bound_method_case,
    "class attribute": class_attribute_case,
    "module attribute": module_case,
    "default argument": default_case,
    "functools.partial": partial_case,
    "slots and frozen dataclass": slots_and_frozen_case,
    "0-d array": zero_dimensional_case,
    "tuple in a closure": tuple_in_closure_case,
}


def places(f):
    """Every (holder, reference) pair of arrays ``f`` can reach, for identity checks."""
    found = []
    stack, seen = [f], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        for child, *_ in references._edges(obj):
            if isinstance(child, np.ndarray):
                found.append((child, child.copy()))
            elif not isinstance(child, references.ATOMIC):
                stack.append(child)
    return found


@pytest.mark.parametrize("case", list(REACHES), ids=list(REACHES))
def test_gradient_reaches_parameters(case):
    f, arrays = REACHES[case]()
    ps = wg.Params(arrays)
    before = places(f)
    gs = assert_gradients(f, ps)
    assert any(np.any(g != 0) for _, g in gs)
    after = places(f)
    assert [a for a, _ in after] == [a for a, _ in before]        # the same objects
    for (array, value), p in zip(before, [a for a, _ in after]):
        np.testing.assert_array_equal(array, value)                # with the same values


@pytest.mark.parametrize("case", list(REACHES), ids=list(REACHES))
def test_explicit_arguments_and_params_in_one_call(case):
    f, arrays = REACHES[case]()
    ps = wg.Params(arrays)
    x = np.array([0.3, -0.2])
    gx, gs = wg.gradient(lambda x: f() * np.sum(x ** 2), x, ps)
    np.testing.assert_allclose(gx, 2 * x * f())
    expected = wg.gradient(f, ps) * float(np.sum(x ** 2))
    for (p, g), (q, h) in zip(gs, expected):
        assert p is q
        np.testing.assert_allclose(g, h)


# ---------------------------------------------------------------------------------------------
# Params
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: np.ndarray
    activation: str = "tanh"
    width: int = 2


class Registered:
    def __init__(self, a, b):
        self.a, self.b = a, b


wg.register_tree(Registered, lambda r: ((r.a, r.b), None), lambda aux, c: Registered(*c))


def test_params_collects_every_inexact_array_of_a_tree():
    w, b, c, d, e = (np.ones(k) for k in range(1, 6))
    tree = {"dense": Layer(w, b), "pair": Pair(c, np.arange(3)),
            "reg": Registered(d, [e, "name", 3, None, True]), "again": w}
    ps = wg.Params(tree)
    assert list(ps) == [w, b, c, d, e] and len(ps) == 5     # tree order, each array once
    assert all(p in ps for p in (w, b, c, d, e))
    assert np.ones(1) not in ps                              # by identity, not by value
    assert len(wg.Params(ps)) == 5


def test_params_of_a_tree_of_any_depth():
    leaf = np.array([2.0])
    tree = leaf
    for depth in range(3000):
        tree = [tree] if depth % 2 else {"child": tree}
    ps = wg.Params(tree)
    assert list(ps) == [leaf]

    def f():
        node = tree
        while isinstance(node, (list, dict)):
            node = node[0] if isinstance(node, list) else node["child"]
        return np.sum(node ** 2)
    assert wg.gradient(f, ps)[leaf] == pytest.approx(4.0)


def test_params_of_an_object_and_of_a_cycle():
    layer = Dense(np.ones((2, 1)), np.zeros(1))
    layer.parent = {"child": layer}
    assert list(wg.Params(layer)) == [layer.w, layer.b]


@pytest.mark.parametrize("number", [1.5, 2 + 1j, np.float64(0.5), np.float32(2.0)])
def test_params_skip_the_numbers_of_a_model(number):
    model = {"w": np.ones(2), "rate": number}
    ps = wg.Params(model)
    assert list(ps) == [model["w"]]
    gs = wg.gradient(lambda: np.real(np.sum(model["w"]) * model["rate"]), ps)
    np.testing.assert_allclose(gs[model["w"]], np.real([number, number]))


def test_params_of_a_bare_number_is_an_error_pointing_to_explicit_style():
    with pytest.raises(wg.DifferentiationError, match=r"identity.*wg.gradient\(f, x\)"):
        wg.Params(1.5)


def test_params_exclude_leaves_arrays_out_by_identity():
    model = {"w": np.ones(2), "b": np.zeros(2), "running_mean": np.zeros(2)}
    ps = wg.Params(model, exclude=[model["running_mean"]])
    assert [id(p) for p in ps] == [id(model["w"]), id(model["b"])]
    assert model["running_mean"] not in ps


def test_params_skips_what_has_no_gradient():
    ps = wg.Params([np.arange(3), np.array([True]), "x", 4, None, np.ones(2)])
    assert len(ps) == 1


# ---------------------------------------------------------------------------------------------
# Grads and update
# ---------------------------------------------------------------------------------------------

def test_grads_lookup_iteration_and_arithmetic():
    w, b = np.array([1.0, 2.0]), np.array(3.0)
    gs = wg.gradient(lambda: np.sum(w ** 2) + b ** 3, wg.Params([w, b]))
    np.testing.assert_allclose(gs[w], 2 * w)
    assert gs[b] == pytest.approx(27.0) and gs[b].shape == ()
    assert [p for p, _ in gs] == [w, b] and len(gs) == 2
    with pytest.raises(KeyError, match="identity"):
        gs[w.copy()]
    for combined, expected in [(gs + gs, 2), (gs - gs * 0.5, 0.5), (3 * gs, 3),
                               (gs * 3, 3), (-gs, -1)]:
        assert isinstance(combined, wg.Grads)
        for (p, g), (_, g0) in zip(combined, gs):
            np.testing.assert_allclose(g, expected * g0)


def test_update_steps_in_place():
    w = np.array([1.0, -2.0])
    w32 = np.array([0.5], dtype=np.float32)
    ps = wg.Params([w, w32])
    original = w
    for _ in range(3):
        gs = wg.gradient(lambda: np.sum(w ** 2) + np.sum(w32 ** 2), ps)
        wg.update(ps, gs, 0.25)
    assert w is original and w32.dtype == np.float32
    np.testing.assert_allclose(w, np.array([1.0, -2.0]) * 0.5 ** 3)
    np.testing.assert_allclose(w32, [0.5 * 0.5 ** 3])


def test_unused_parameter_gets_zero_gradient_and_one_warning():
    used, unused = np.array([1.0, 2.0]), np.ones((2, 3), dtype=np.float32)
    ps = wg.Params([used, unused])
    with pytest.warns(UserWarning, match=r"did not reach 1 of the 2 arrays .*rebinds"):
        gs = wg.gradient(lambda: np.sum(used), ps)
    assert gs[unused].shape == (2, 3) and gs[unused].dtype == np.float32
    assert not np.any(gs[unused])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # once per Params: the second call is quiet
        wg.gradient(lambda: np.sum(used), ps)


def test_rebinding_a_parameter_between_steps_warns_with_the_way_out():
    class Layer:
        pass

    layer = Layer()
    layer.W = np.array([1.0, 2.0])
    ps = wg.Params(layer)
    gs = wg.gradient(lambda: np.sum(layer.W ** 2), ps)
    layer.W = layer.W - 0.1 * gs[layer.W]          # the natural SGD step: a new array
    with pytest.warns(UserWarning, match="wg.update, wengert.optim"):
        gs = wg.gradient(lambda: np.sum(layer.W ** 2), ps)
    assert not np.any(list(gs)[0][1])


def test_complex_parameter_follows_the_convention():
    z = np.array([1 + 2j, -0.5j])
    gs = wg.gradient(lambda: np.sum(np.abs(z) ** 2), wg.Params([z]))
    np.testing.assert_allclose(gs[z], 2 * z)


def test_withgradient_gives_value_and_grads():
    w = np.array([0.5, 1.0])
    value, gs = wg.withgradient(lambda: np.sum(np.exp(w)), wg.Params([w]))
    assert value == pytest.approx(np.sum(np.exp(w)))
    np.testing.assert_allclose(gs[w], np.exp(w))


def test_two_params_sharing_an_array():
    w, v = np.array([1.0, 2.0]), np.array([3.0])
    gx, g1, g2 = wg.gradient(lambda x: np.sum(x * w) + np.sum(v ** 2), np.ones(2),
                             wg.Params([w]), wg.Params([w, v]))
    np.testing.assert_allclose(g1[w], np.ones(2))
    np.testing.assert_allclose(g2[w], np.ones(2))
    np.testing.assert_allclose(g2[v], 2 * v)


# ---------------------------------------------------------------------------------------------
# Restoring the references
# ---------------------------------------------------------------------------------------------

class Boom(Exception):
    pass


@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt])
def test_references_restored_when_f_raises(error):
    model = {"w": np.ones(2), "layers": [np.ones(3), (np.zeros(2), Dense(np.ones((1, 1)),
                                                                           np.zeros(1)))]}
    before = places(lambda: model)

    def f():
        np.sum(model["layers"][1][0] * model["w"])
        raise error("stop")
    with pytest.raises(error):
        wg.gradient(f, wg.Params(model))
    after = places(lambda: model)
    assert [a for a, _ in after] == [a for a, _ in before]
    assert not any(isinstance(v, wg.core.levels.Tracer)
                   for v in (model["w"], *model["layers"][:1]))
    assert reach_module._active == []


def test_references_restored_when_f_rebinds_or_moves_them():
    layer = Dense(np.array([[1.0]]), np.array([0.5]))
    items = [np.array([2.0])]
    w, b, item = layer.w, layer.b, items[0]

    def f():
        layer.w = layer.w * 2            # a traced value stored on the model
        items.insert(0, "first")         # the list shifts under the substitution
        value = np.sum(layer.w) + np.sum(items[1] ** 2) + np.sum(layer.b)
        items.pop(0)
        return value
    gs = wg.gradient(f, wg.Params([w, b, item]))
    assert layer.w is w and layer.b is b and items[0] is item
    np.testing.assert_allclose(gs[w], [[2.0]])
    np.testing.assert_allclose(gs[item], [4.0])


def test_copies_made_before_f_runs_are_constants():
    w = np.array([1.0, 2.0])
    copy = np.asarray(w, dtype=np.float32)            # a new array: not the parameter
    gs = wg.gradient(lambda: np.sum(copy.astype(float) ** 2), wg.Params([w]))
    assert not np.any(gs[w])


# ---------------------------------------------------------------------------------------------
# Composition: rules, forwarddiff, checkpoint, nesting
# ---------------------------------------------------------------------------------------------

@wg.primitive
def squared_norm(v):
    return np.sum(v * v)


pullbacks_run = []


@wg.rrule(squared_norm)
def _squared_norm_rrule(v):
    def squared_norm_pullback(ct):
        pullbacks_run.append(1)
        return (2 * ct * v,)
    return np.sum(v * v), squared_norm_pullback


def test_custom_rule_feeds_parameter_gradients():
    layer = Dense(np.array([[0.5, -1.0], [2.0, 0.1]]), np.array([0.2, 0.3]))
    pullbacks_run.clear()
    gs = assert_gradients(lambda: squared_norm(layer(x_input)), wg.Params(layer))
    assert pullbacks_run and len(gs) == 2


def test_forwarddiff_inside_f_reaches_closed_over_parameters():
    w = np.array([0.5, -1.5, 2.0])
    x = np.array([0.3, 0.2, -0.1])

    def f(x):
        return np.sum(wg.forwarddiff(lambda t: np.sin(t * w) * w, x) ** 2)
    gx, gs = wg.gradient(f, x, wg.Params([w]))
    assert_gradients(lambda: f(x), wg.Params([w]))
    np.testing.assert_allclose(gx, wg.gradient(lambda x: np.sum((np.sin(x * w) * w) ** 2),
                                               x)[0])
    # The parameter itself as forwarddiff's argument, and closed over at the same time.
    assert_gradients(lambda: np.sum(wg.forwarddiff(lambda v: np.exp(v * x) * w, w)),
                     wg.Params([w]))


def test_checkpoint_with_traced_arguments_and_closed_over_parameters():
    layer = Dense(np.array([[0.7, -0.2], [0.1, 0.9]]), np.array([0.1, -0.2]))
    block = wg.checkpoint(lambda h: layer(layer(h)))

    def f(x):
        return np.sum(block(x * 2.0) ** 2)
    gx, gs = wg.gradient(f, x_input, wg.Params(layer))
    plain = wg.gradient(lambda x: np.sum(layer(layer(x * 2.0)) ** 2), x_input,
                        wg.Params(layer))
    np.testing.assert_allclose(gx, plain[0])
    for (_, g), (_, expected) in zip(gs, plain[1]):
        np.testing.assert_allclose(g, expected)
        assert np.any(g != 0)
    assert layer.w.__class__ is np.ndarray


def test_checkpoint_of_a_closure_over_an_explicit_argument():
    def f(w, x):
        return wg.checkpoint(lambda x: np.sum(np.sin(x) * w ** 2))(x) * 2
    wg.testing.check_grads(f, np.array([1.0, 2.0]), np.array([0.5, 0.1]), order=2)


def test_nested_gradients_with_params():
    w = np.array([0.5, -1.0, 2.0])
    ps = wg.Params([w])

    def inner_norm():       # |∇_w Σw⁴|² = Σ 16 w⁶, so its gradient is 96 w⁵
        gs = wg.gradient(lambda: np.sum(w ** 4), ps)
        return np.sum(gs[w] ** 2)
    np.testing.assert_allclose(wg.gradient(inner_norm, ps)[w], 96 * w ** 5)

    def params_built_inside():
        gs = wg.gradient(lambda: np.sum(w ** 4), wg.Params([w]))
        return np.sum(gs[w] ** 2)
    np.testing.assert_allclose(wg.gradient(params_built_inside, ps)[w], 96 * w ** 5)


def test_explicit_gradient_around_implicit_one():
    w = np.array([1.0, -2.0])
    ps = wg.Params([w])

    def g(x):          # ∂/∂w Σ x w² = 2 x w; summed, its gradient in x is 2 w
        return np.sum(wg.gradient(lambda: np.sum(x * w ** 2), ps)[w])
    np.testing.assert_allclose(wg.gradient(g, np.array([0.5, 3.0]))[0], 2 * w)


def test_params_and_forward_mode_checks():
    w = np.array([0.2, 0.4])
    wg.testing.check_grads(lambda x: np.sum(wg.gradient(lambda: np.sum(np.sin(x * w)),
                                                        wg.Params([w]))[w]),
                           np.array([0.3, -0.7]))


# ---------------------------------------------------------------------------------------------
# The Gaussian-process example, on a few stations
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example():
    pytest.importorskip("scipy")
    path = os.path.join(os.path.dirname(__file__), "..", "examples", "gaussian_process.py")
    spec = importlib.util.spec_from_file_location("gaussian_process_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_rule_matches_ad_through_cholesky_and_finite_differences(example):
    x, y = example.weather_stations(30, seed=3)
    data = example.make_data(x, y)
    theta = example.initial_theta(y)
    with_rule = wg.gradient(lambda t: example.nll_of_theta(t, data), theta)[0]
    through = wg.gradient(lambda t: example.nll_of_theta(t, data, example.nll_by_linalg),
                          theta)[0]
    np.testing.assert_allclose(example.to_vector(with_rule), example.to_vector(through),
                               rtol=1e-7, atol=1e-9)
    K = example.covariance(theta, data)
    wg.testing.check_grads(lambda A, r: example.nll((A + A.T) / 2, r), K, y - 20.0)


def test_example_fits_agree(example):
    x, y = example.weather_stations(40, seed=4)
    data = example.make_data(x, y)
    theta0 = example.initial_theta(y)
    theta, result = example.fit_explicit(theta0, data)
    gp = example.GaussianProcess(example.from_vector(theta0, example.to_vector(theta0)), data)
    arrays = list(wg.Params(gp.theta))
    implicit = example.fit_implicit(gp)
    assert list(wg.Params(gp.theta)) == arrays             # the model's own arrays, updated
    assert implicit.fun == pytest.approx(result.fun, abs=1e-8)
    np.testing.assert_allclose(example.to_vector(gp.theta), example.to_vector(theta),
                               rtol=1e-6)


def test_pullback_and_jacobian_refuse_params_with_a_clear_error():
    w = np.ones(3)
    for transform in (wg.pullback, wg.jacobian):
        with pytest.raises(wg.DifferentiationError, match="wg.gradient"):
            transform(lambda: w * 2, wg.Params([w]))
