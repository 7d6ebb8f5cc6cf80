"""Structured arguments: flatten/unflatten, and gradients that mirror their argument's
structure (lists, tuples, dicts, namedtuples, dataclasses, registered classes, wg.Tangent)."""
import collections
import dataclasses

import numpy as np
import pytest

import wengert as wg
from wengert.tree import flatten, is_differentiable, unflatten, unflatten_tangent

Point = collections.namedtuple("Point", "x y")


@dataclasses.dataclass
class Layer:
    weight: np.ndarray
    bias: np.ndarray
    name: str = "layer"
    width: int = 2


@dataclasses.dataclass(frozen=True)
class Frozen:
    scale: float
    shift: np.ndarray


@dataclasses.dataclass
class Model:
    layers: list
    options: dict


class Affine:
    """A plain class taught to wengert with register_tree."""

    def __init__(self, matrix, offset, label):
        self.matrix = matrix
        self.offset = offset
        self.label = label


wg.register_tree(Affine, lambda a: ((a.matrix, a.offset), a.label),
                 lambda label, children: Affine(*children, label))


class Positive:
    """A registered class whose constructor rejects its own gradient (negative entries), so
    its gradient must come back as a wg.Tangent."""

    def __init__(self, values):
        if np.any(values < 0):
            raise ValueError("Positive needs non-negative values")
        self.values = values


wg.register_tree(Positive, lambda p: ((p.values,), None), lambda _, children: Positive(*children))


# ---------------------------------------------------------------------------------------------
# flatten / unflatten
# ---------------------------------------------------------------------------------------------

TREES = [
    1.5,
    [1.0, 2.0],
    (np.ones(2), "s", None),
    {"b": 1.0, "a": [2.0, (3.0,)]},
    Point(1.0, np.zeros(3)),
    Layer(np.eye(2), np.ones(2)),
    Frozen(2.0, np.ones(3)),
    Model([Layer(np.eye(2), np.ones(2))], {"lr": 0.1}),
    Affine(np.eye(2), np.ones(2), "f"),
    [],
    {},
]


def _equal(a, b):
    leaves_a, def_a = flatten(a)
    leaves_b, def_b = flatten(b)
    return repr(def_a) == repr(def_b) and all(
        type(x) is type(y) and np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
        for x, y in zip(leaves_a, leaves_b)
    )


@pytest.mark.parametrize("tree", TREES, ids=lambda t: type(t).__name__)
def test_unflatten_inverts_flatten(tree):
    leaves, treedef = flatten(tree)
    rebuilt = unflatten(treedef, leaves)
    assert type(rebuilt) is type(tree)
    assert _equal(rebuilt, tree)
    assert treedef.num_leaves == len(leaves)


def test_flatten_order_and_leaves():
    tree = {"z": 1.0, "a": [2.0, Point(3.0, 4.0)]}
    leaves, _ = flatten(tree)
    assert leaves == [1.0, 2.0, 3.0, 4.0]   # dict insertion order, depth first


def test_unflatten_does_not_touch_the_template():
    layer = Layer(np.eye(2), np.ones(2))
    leaves, treedef = flatten(layer)
    rebuilt = unflatten(treedef, [leaf * 0 if isinstance(leaf, np.ndarray) else leaf
                                  for leaf in leaves])
    assert rebuilt is not layer
    np.testing.assert_array_equal(layer.weight, np.eye(2))
    np.testing.assert_array_equal(rebuilt.weight, np.zeros((2, 2)))


def test_unflatten_tangent_falls_back_to_tangent():
    _, treedef = flatten(Positive(np.ones(2)))
    t = unflatten_tangent(treedef, [-np.ones(2)])
    assert isinstance(t, wg.Tangent) and t.primal_type is Positive
    with pytest.raises(ValueError):
        unflatten(treedef, [-np.ones(2)])


@pytest.mark.parametrize("leaf, expected", [
    (1.0, True), (1j, True), (np.float32(1), True), (np.ones(2), True),
    (np.ones(2, np.complex64), True), (1, False), (True, False), ("s", False), (None, False),
    (np.arange(3), False), (np.array([True]), False), (np.int32(1), False),
], ids=repr)
def test_which_leaves_are_differentiable(leaf, expected):
    assert is_differentiable(leaf) is expected


# ---------------------------------------------------------------------------------------------
# gradients mirror the structure of their argument
# ---------------------------------------------------------------------------------------------

def test_gradient_of_list_and_tuple():
    (g,) = wg.gradient(lambda p: p[0] * p[1][0] + p[1][1] ** 2, [2.0, (3.0, 4.0)])
    assert type(g) is list and type(g[1]) is tuple
    assert g == [3.0, (2.0, 8.0)]


def test_gradient_of_dict_keeps_keys_and_order():
    params = {"w": np.arange(3.0), "b": 0.5, "tag": "t"}
    (g,) = wg.gradient(lambda p: np.sum(p["w"] ** 2) * p["b"], params)
    assert list(g) == ["w", "b", "tag"]
    np.testing.assert_allclose(g["w"], 2 * np.arange(3.0) * 0.5)
    assert g["b"] == pytest.approx(5.0) and type(g["b"]) is float
    assert g["tag"] is None


def test_gradient_of_namedtuple():
    (g,) = wg.gradient(lambda p: p.x * np.sum(p.y), Point(2.0, np.ones(3)))
    assert type(g) is Point
    assert g.x == 3.0
    np.testing.assert_allclose(g.y, 2.0 * np.ones(3))


def test_gradient_of_dataclass_is_the_same_dataclass():
    layer = Layer(np.eye(2), np.array([1.0, -1.0]), "dense", 7)
    x = np.array([3.0, 4.0])
    (g,) = wg.gradient(lambda l: np.sum((l.weight @ x + l.bias) ** 2) * l.width, layer)
    assert type(g) is Layer
    residual = layer.weight @ x + layer.bias
    np.testing.assert_allclose(g.weight, 2 * 7 * np.outer(residual, x))
    np.testing.assert_allclose(g.bias, 2 * 7 * residual)
    assert g.name is None and g.width is None
    np.testing.assert_array_equal(layer.bias, [1.0, -1.0])   # the argument is untouched


def test_gradient_of_frozen_dataclass():
    arg = Frozen(2.0, np.arange(3.0))
    (g,) = wg.gradient(lambda f: f.scale * np.sum(np.sin(f.shift)), arg)
    assert type(g) is Frozen
    assert g.scale == pytest.approx(np.sum(np.sin(np.arange(3.0))))
    np.testing.assert_allclose(g.shift, 2.0 * np.cos(np.arange(3.0)))


def test_gradient_of_nested_mix():
    model = Model([Layer(np.eye(2), np.ones(2)), Layer(2 * np.eye(2), np.zeros(2))],
                  {"lr": 0.1, "steps": 3, "points": [Point(1.0, 2.0)]})

    def loss(m):
        total = 0.0
        for layer in m.layers:
            total = total + np.sum(layer.weight) * m.options["lr"] + np.sum(layer.bias)
        return total * m.options["points"][0].y

    (g,) = wg.gradient(loss, model)
    assert type(g) is Model and type(g.layers[1]) is Layer and type(g.options["points"][0]) is Point
    np.testing.assert_allclose(g.layers[0].weight, 0.1 * 2.0 * np.ones((2, 2)))
    np.testing.assert_allclose(g.layers[1].bias, 2.0 * np.ones(2))
    assert g.options["lr"] == pytest.approx(2.0 * (2 + 4))
    assert g.options["steps"] is None
    assert g.options["points"][0].x == 0.0
    assert g.options["points"][0].y == pytest.approx(0.1 * 6 + 2)


def test_gradient_of_registered_class():
    affine = Affine(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]), "f")
    x = np.array([1.0, -1.0])
    (g,) = wg.gradient(lambda a: np.sum(a.matrix @ x + a.offset), affine)
    assert type(g) is Affine and g.label == "f"
    np.testing.assert_allclose(g.matrix, np.outer(np.ones(2), x))
    np.testing.assert_allclose(g.offset, np.ones(2))


def test_gradient_of_class_that_cannot_be_rebuilt_is_a_tangent():
    (g,) = wg.gradient(lambda p: -np.sum(p.values ** 2), Positive(np.array([1.0, 2.0])))
    assert isinstance(g, wg.Tangent)
    assert g.primal_type is Positive
    (field,) = g.fields.values()
    np.testing.assert_allclose(field, [-2.0, -4.0])


def test_jacobian_of_class_that_cannot_be_rebuilt():
    (jac,) = wg.jacobian(lambda p: -p.values ** 2, Positive(np.array([1.0, 2.0])))
    assert isinstance(jac, wg.Tangent)
    (field,) = jac.fields.values()
    np.testing.assert_allclose(field, np.diag([-2.0, -4.0]))


def test_tree_inside_a_primitive_argument():
    @wg.primitive
    def weighted(layer, x):
        return np.sum(layer.weight @ x) + np.sum(layer.bias)

    layer = Layer(np.eye(2), np.ones(2))
    x = np.array([1.0, 2.0])
    g_layer, g_x = wg.gradient(weighted, layer, x)
    assert type(g_layer) is Layer
    np.testing.assert_allclose(g_layer.weight, np.outer(np.ones(2), x))
    np.testing.assert_allclose(g_x, np.ones(2))


def test_primitive_rule_may_return_a_tangent_for_a_tree_argument():
    @wg.primitive
    def energy(layer):
        return np.sum(layer.weight ** 2)

    @wg.rrule(energy)
    def _(layer):
        def energy_pullback(ct):
            return (wg.Tangent(Layer, weight=ct * 2 * layer.weight),)
        return energy(layer), energy_pullback

    (g,) = wg.gradient(energy, Layer(np.eye(2), np.ones(2)))
    np.testing.assert_allclose(g.weight, 2 * np.eye(2))
    np.testing.assert_allclose(g.bias, np.zeros(2))
