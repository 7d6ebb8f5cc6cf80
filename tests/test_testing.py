"""wengert.testing: check_grads, check_rrule and check_frule pass correct derivatives and
catch wrong ones with a report naming the argument and coordinate of the worst mismatch."""
import dataclasses

import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_frule, check_grads, check_rrule

X = np.array([0.5, -1.0, 2.0])


def mistake_at(index, size=3):
    """An array that is 0 except for a 1 at ``index``: what a wrong rule adds."""
    e = np.zeros(size)
    e[index] = 1.0
    return e


def cube_with_rules(reverse_error=None, forward_error=None, value_error=0.0):
    """A primitive x³ with a reverse and a forward rule, each optionally wrong."""
    @wg.primitive
    def cube(x):
        return x ** 3

    @wg.rrule(cube)
    def cube_rrule(x):
        def cube_pullback(ct):
            g = ct * 3 * x ** 2
            return (g if reverse_error is None else g + ct * reverse_error,)
        return x ** 3 + value_error, cube_pullback

    @wg.frule(cube)
    def cube_frule(dx, x):
        dy = 3 * x ** 2 * dx
        return x ** 3 + value_error, dy if forward_error is None else dy + forward_error * dx

    return cube


# ---------------------------------------------------------------------------------------------
# check_grads
# ---------------------------------------------------------------------------------------------

def test_check_grads_passes_correct_rules_in_every_mode_and_order():
    check_grads(cube_with_rules(), X, order=2)


def test_check_grads_catches_a_wrong_reverse_rule_and_names_the_coordinate():
    cube = cube_with_rules(reverse_error=mistake_at(2))
    check_grads(cube, X, modes=("forward",))        # the forward rule is right
    with pytest.raises(AssertionError) as info:
        check_grads(cube, X, modes=("reverse",))
    message = str(info.value)
    assert message.startswith("reverse-mode derivative disagrees with central finite")
    assert "at x[2]" in message and "1 of 3 checks disagree" in message


def test_check_grads_catches_a_wrong_forward_rule_and_names_the_coordinate():
    cube = cube_with_rules(forward_error=mistake_at(1))
    check_grads(cube, X, modes=("reverse",))
    with pytest.raises(AssertionError, match=r"forward-mode .* at x\[1\]"):
        check_grads(cube, X, modes=("forward",))


def test_check_grads_catches_a_wrong_second_derivative():
    @wg.primitive
    def cube(x):
        return x ** 3

    @wg.rrule(cube)
    def cube_rrule(x):
        # Right at first order, but 3x² is held constant, so the second order is lost.
        slope = 3 * wg.stop_gradient(x) ** 2
        return x ** 3, lambda ct: (ct * slope,)

    check_grads(cube, X, modes=("reverse",))
    with pytest.raises(AssertionError, match="reverse-mode"):
        check_grads(cube, X, modes=("reverse",), order=2)


def test_check_grads_names_leaves_of_structured_and_complex_arguments():
    @wg.primitive
    def energy(params, z):
        return params["scale"] * np.sum(params["w"] ** 2) + np.sum(np.abs(z) ** 2)

    @wg.rrule(energy)
    def energy_rrule(params, z):
        def energy_pullback(ct):
            dw = ct * 2 * params["scale"] * params["w"] + ct * mistake_at(1, 2)
            return {"scale": ct * np.sum(params["w"] ** 2), "w": dw}, ct * 2 * z
        return energy(params, z), energy_pullback

    params = {"scale": 1.5, "w": np.array([0.5, -1.0])}
    z = np.array([1.0 + 2.0j])
    with pytest.raises(AssertionError, match=r"at params\['w'\]\[1\]"):
        check_grads(energy, params, z, modes=("reverse",))

    @wg.rrule(energy)
    def energy_rrule_wrong_in_z(params, z):
        def energy_pullback(ct):
            dw = ct * 2 * params["scale"] * params["w"]
            return {"scale": ct * np.sum(params["w"] ** 2), "w": dw}, ct * 2 * np.real(z)
        return energy(params, z), energy_pullback

    with pytest.raises(AssertionError, match=r"at z\[0\] \(imaginary part\)"):
        check_grads(energy, params, z, modes=("reverse",))


def test_check_grads_uses_random_directions_for_large_arguments():
    cube = cube_with_rules(reverse_error=mistake_at(7, 100))
    with pytest.raises(AssertionError, match="x along random direction"):
        check_grads(cube, np.linspace(-1, 1, 100), modes=("reverse",))


def test_check_grads_reports_a_gradient_of_the_wrong_shape():
    @wg.primitive
    def total(x):
        return np.sum(x)

    @wg.rrule(total)
    def total_rrule(x):
        return np.sum(x), lambda ct: (ct * np.ones(2),)      # x has 3 entries

    # the engine refuses the cotangent itself, before any check could see a wrong gradient
    with pytest.raises(wg.DifferentiationError, match=r"shape \(2,\) for its argument 0"):
        check_grads(total, X, modes=("reverse",))


# ---------------------------------------------------------------------------------------------
# check_rrule
# ---------------------------------------------------------------------------------------------

def test_check_rrule_passes_a_correct_rule():
    check_rrule(cube_with_rules(), X)
    check_rrule(np.sin, X)                    # a library rule (no Python body to compare)
    check_rrule(np.sum, np.ones((2, 3)), axis=1)


def test_check_rrule_catches_a_wrong_rule_against_both_references():
    cube = cube_with_rules(reverse_error=mistake_at(0))
    with pytest.raises(AssertionError) as info:
        check_rrule(cube, X)
    message = str(info.value)
    assert "the reverse rule of" in message and "cube(ndarray)" in message
    assert "disagree with central finite differences: at x[0]" in message
    assert "disagree with reverse-mode AD through the implementation: at x[0]" in message
    assert "the rule gives" in message


def test_check_rrule_catches_a_wrong_value():
    with pytest.raises(AssertionError,
                       match=r"value disagrees with the plain call: at output\[0\]"):
        check_rrule(cube_with_rules(value_error=mistake_at(0)), X)


def test_check_rrule_without_a_rule():
    @wg.primitive
    def square(x):
        return x * x

    with pytest.raises(AssertionError, match=r"no reverse rule applies to .*square"):
        check_rrule(square, X)


def test_check_rrule_reports_a_pullback_with_too_few_cotangents():
    @wg.primitive
    def scaled(x, s):
        return s * x

    @wg.rrule(scaled)
    def scaled_rrule(x, s):
        return s * x, lambda ct: (ct * s,)

    with pytest.raises(AssertionError, match="one cotangent per positional argument"):
        check_rrule(scaled, X, 2.0)


@dataclasses.dataclass
class Affine:
    W: np.ndarray
    b: np.ndarray

    @wg.primitive
    def apply(self, x):
        return self.W @ x + self.b


def test_check_rrule_of_a_method_names_the_fields_of_self():
    @wg.rrule(Affine.apply)
    def apply_rrule(layer, x):
        def apply_pullback(ct):
            dW = np.outer(ct, x)
            return Affine(dW.T, ct), layer.W.T @ ct           # dW transposed: wrong
        return layer.apply(x), apply_pullback

    layer = Affine(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]))
    with pytest.raises(AssertionError, match=r"at self\.W\[(0, 1|1, 0)\]"):
        check_rrule(Affine.apply, layer, np.array([1.0, -2.0]))

    @wg.rrule(Affine.apply)
    def apply_rrule_fixed(layer, x):
        return layer.apply(x), lambda ct: (Affine(np.outer(ct, x), ct), layer.W.T @ ct)

    check_rrule(Affine.apply, layer, np.array([1.0, -2.0]))


class Diagonal(np.ndarray):
    """Stored densely; its own np.matmul reads the diagonal only."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul and method == "__call__" and inputs[0] is self:
            return np.diagonal(self) * inputs[1]
        plain = [x.view(np.ndarray) if isinstance(x, Diagonal) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def test_check_rrule_compares_a_subclass_rule_with_the_subclass_override():
    D = np.diag([1.0, 2.0]).view(Diagonal)
    b = np.array([3.0, -1.0])

    @wg.rrule(np.matmul, Diagonal)
    def dense_rrule(A, b):
        return A @ b, lambda ct: (np.outer(ct, b), A.T @ ct)

    # np.matmul's parameters are named x1 and x2; only the off-diagonal entries disagree.
    with pytest.raises(AssertionError,
                       match=r"AD through the implementation: at x1\[(0, 1|1, 0)\]"):
        check_rrule(np.matmul, D, b)

    @wg.rrule(np.matmul, Diagonal)
    def structured_rrule(A, b):
        d = np.diagonal(A)
        return d * b, lambda ct: (np.diag(ct * b), d * ct)

    check_rrule(np.matmul, D, b)


# ---------------------------------------------------------------------------------------------
# check_frule
# ---------------------------------------------------------------------------------------------

def test_check_frule_passes_a_correct_rule():
    check_frule(cube_with_rules(), X)
    check_frule(np.exp, X)


def test_check_frule_catches_a_wrong_rule_against_both_references():
    cube = cube_with_rules(forward_error=mistake_at(1))
    check_rrule(cube, X)
    with pytest.raises(AssertionError) as info:
        check_frule(cube, X)
    message = str(info.value)
    assert "the forward rule of" in message
    assert "disagree with central finite differences: at x[1]" in message
    assert ("disagree with forward-mode AD through the implementation: for a tangent on x[1], "
            "at output[1]") in message


def test_check_frule_catches_a_wrong_value_and_a_missing_rule():
    with pytest.raises(AssertionError, match="value disagrees with the plain call"):
        check_frule(cube_with_rules(value_error=mistake_at(2)), X)

    @wg.primitive
    def square(x):
        return x * x

    with pytest.raises(AssertionError, match=r"no forward rule applies"):
        check_frule(square, X)


def test_check_frule_of_a_two_output_rule_names_the_output():
    @wg.primitive
    def sin_cos(x):
        return np.sin(x), np.cos(x)

    @wg.frule(sin_cos)
    def sin_cos_frule(dx, x):
        return (np.sin(x), np.cos(x)), (np.cos(x) * dx, np.sin(x) * dx)    # sign of the 2nd

    with pytest.raises(AssertionError, match=r"for a tangent on x\[\d\], at output 1\[\d\]"):
        check_frule(sin_cos, X)


def test_a_body_that_ad_cannot_go_through_leaves_finite_differences_as_the_reference():
    @wg.primitive
    def opaque_square(x):
        return np.array([float(v) ** 2 for v in x])     # float() of a tracer: not traceable

    @wg.rrule(opaque_square)
    def opaque_square_rrule(x):
        return x ** 2, lambda ct: (2 * x * ct,)

    @wg.frule(opaque_square)
    def opaque_square_frule(dx, x):
        return x ** 2, 2 * x * dx

    check_rrule(opaque_square, X)
    check_frule(opaque_square, X)

    @wg.rrule(opaque_square)
    def opaque_square_wrong_rrule(x):
        return x ** 2, lambda ct: (3 * x * ct,)

    with pytest.raises(AssertionError, match="finite differences") as info:
        check_rrule(opaque_square, X)
    assert "implementation" not in str(info.value)


def test_nan_on_both_sides_is_a_failure_not_a_pass():
    with pytest.raises(AssertionError, match="differentiable"):
        wg.testing.check_grads(np.sqrt, np.array([-1.0, -2.0]))


def test_a_forward_tangent_without_its_broadcast_shape_is_caught():
    @wg.primitive
    def shift(x, y):
        return x + y

    @wg.frule(shift)
    def shift_frule(dx, dy, x, y):
        return x + y, dx            # wrong: dx has x's shape, not the broadcast output's

    @wg.rrule(shift)
    def shift_rrule(x, y):
        return x + y, lambda ct: (np.sum(ct, axis=0), ct)

    with pytest.raises(AssertionError, match="shape"):
        wg.testing.check_grads(shift, np.ones(3), np.ones((2, 3)), modes=("forward",))


def test_checks_take_functions_with_an_integer_output():
    # an integer output (lu_factor's pivots, argmax) has no tangent and takes no part
    def value_and_position(x):
        return np.sin(x), np.argmax(x)

    x = np.array([0.3, 1.1, -0.4])
    wg.testing.check_grads(value_and_position, x)
    wg.testing.check_grads(value_and_position, x, modes=("forward",))
