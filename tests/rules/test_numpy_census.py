"""The census of NumPy's namespace (rules/census.py): every public function of numpy,
numpy.linalg and numpy.fft has a kind, the hand-written tables hold no stale entries, each
kind behaves as it says on traced values, and an unsupported function refuses a traced value
with its reason in both modes.

At the end, two contracts of the transformations that going through the whole namespace
turned up: a cotangent may be a Python number, and a one-element output counts as a scalar
for the gradient (as in PyTorch and autograd)."""
import numpy as np
import pytest

import wengert as wg
from wengert.rules import census
from wengert.testing import check_grads

pytest.importorskip("scipy")

KINDS = {"rule", "definition", "non-differentiable", "traced through", "constant",
         "unsupported"}


def test_every_public_function_is_classified():
    found = census.census()
    assert len(found) > 400   # the enumeration sees NumPy's namespace
    unknown = sorted(name for name, (kind, _) in found.items() if kind not in KINDS)
    assert not unknown, (
        f"{len(unknown)} NumPy functions have no rule, no traced definition and no entry in "
        "rules/census.py: give each a rule, or a kind and a reason there: " + ", ".join(unknown))


def test_classes_are_left_out_and_functions_kept():
    names = census.public_callables()
    assert "np.vectorize" not in names and "np.float64" not in names
    assert {"np.sin", "np.linalg.solve", "np.gradient", "np.save"} <= set(names)


def test_the_tables_hold_no_stale_or_doubled_entries():
    functions = census.public_callables()
    seen = {}
    for kind, table in census.TABLES.items():
        for name in table:
            assert name not in seen, f"{name} is both {seen[name]} and {kind}"
            seen[name] = kind
            if name not in functions:
                continue   # not in this NumPy version
            found, _ = census.classify(name, functions[name])
            assert found == kind, (
                f"{name} is listed as {kind} in rules/census.py but is now a {found}: drop "
                "its entry there")


def test_the_registry_decides_the_first_three_kinds():
    found = census.census()
    assert found["np.sin"][0] == found["np.linalg.solve"][0] == "rule"
    assert found["np.gradient"][0] == found["np.polyfit"][0] == "definition"
    assert found["np.argpartition"][0] == found["np.isnan"][0] == "non-differentiable"


UNSUPPORTED_CALLS = {
    "np.copyto": lambda x: np.copyto(np.zeros(2), x),
    "np.place": lambda x: np.place(x, x > 0, [1.0]),
    "np.put": lambda x: np.put(x, [0], 2.0),
    "np.putmask": lambda x: np.putmask(x, x > 0, 1.0),
    "np.put_along_axis": lambda x: np.put_along_axis(x, np.array([0]), 1.0, axis=0),
    "np.fill_diagonal": lambda x: np.fill_diagonal(np.reshape(x, (1, 2)), 0.0),
    "np.save": lambda x: np.save("never-written.npy", x),
    "np.savetxt": lambda x: np.savetxt("never-written.txt", x),
    "np.savez": lambda x: np.savez("never-written.npz", x),
    "np.savez_compressed": lambda x: np.savez_compressed("never-written.npz", x),
}


def test_every_dispatched_unsupported_function_has_a_call_here():
    functions = census.public_callables()
    dispatched = {name for name in census.UNSUPPORTED
                  if name in functions and census.dispatched(functions[name])}
    assert dispatched == set(UNSUPPORTED_CALLS) & set(functions)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_CALLS))
def test_unsupported_functions_refuse_traced_values_with_their_reason(name):
    if name not in census.public_callables():
        pytest.skip(f"{name} is not in this NumPy")
    call = UNSUPPORTED_CALLS[name]
    reason = census.UNSUPPORTED[name].split(".")[0]
    for transform in (lambda: wg.gradient(lambda x: (call(x), np.sum(x))[1], np.ones(2)),
                      lambda: wg.jvp(lambda x: (call(x), x)[1], (np.ones(2),), (np.ones(2),))):
        with pytest.raises(wg.DifferentiationError) as error:
            transform()
        assert name in str(error.value) and reason in str(error.value)


@pytest.mark.parametrize("call", [
    np.asarray, np.array, np.ascontiguousarray, np.asarray_chkfinite, np.require,
    lambda x: np.fromiter(x, float), lambda x: np.arange(x[0]), lambda x: np.kaiser(3, x[0]),
    lambda x: np.full(2, x[0]),
], ids=["asarray", "array", "ascontiguousarray", "asarray_chkfinite", "require", "fromiter",
        "arange", "kaiser", "full"])
def test_undispatched_functions_refuse_traced_values_too(call):
    """NumPy does not hand these to wengert: the tracer refuses to become a plain array (or
    a float, which np.fromiter reports as a ValueError caused by the refusal)."""
    with pytest.raises((wg.DifferentiationError, ValueError)) as error:
        wg.gradient(lambda x: np.sum(call(x)), np.ones(2))
    assert isinstance(error.value, wg.DifferentiationError) or isinstance(
        error.value.__cause__, wg.DifferentiationError)


@pytest.mark.parametrize("name, f, args", [
    ("np.fromfunction", lambda a: np.fromfunction(lambda i, j: a * i + j * j, (2, 3)), (0.7,)),
    *([("np.row_stack", lambda a, b: np.row_stack([a, b]), (np.ones(2), np.arange(2.0)))]
      if hasattr(np, "row_stack") else []),   # removed in NumPy 2.5
    ("np.iterable", lambda a: sum(np.sin(r) for r in a) if np.iterable(a) else a,
     (np.arange(3.0),)),
    ("np.fft.fftfreq", lambda d: np.fft.fftfreq(5, d) ** 2, (0.3,)),
    ("np.fft.rfftfreq", lambda d: np.fft.rfftfreq(6, d) ** 2, (0.3,)),
])
@pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated")
def test_functions_traced_through_need_no_entry(name, f, args):
    assert census.census()[name][0] == "traced through"
    check_grads(f, *args, order=2)


# ---------------------------------------------------------------------------------------------
# Cotangents given as Python numbers; outputs of one element
# ---------------------------------------------------------------------------------------------

SCALAR_OUTPUTS = {
    "broadcast product": (lambda a, b: a * b, (2.0, np.ones(()))),
    "float32 product": (lambda a, b: a * b, (np.float32(2.0), np.ones((), np.float32))),
    "quotient": (lambda a, b: a / b, (np.array(1.5), 2.0)),
    "sum of squares": (lambda v: np.sum(v * v), (np.arange(3.0),)),
    "dot": (lambda v, m: v @ m @ v, (np.arange(3.0), np.eye(3) + 1)),
    "determinant": (np.linalg.det, (np.eye(3) + 0.5,)),
    "norm": (np.linalg.norm, (np.arange(1.0, 4.0),)),
    "max": (np.max, (np.array([1.0, 3.0, 2.0]),)),
    "index": (lambda v: v[1] ** 3, (np.arange(3.0),)),
    "complex square": (lambda z: z * z, (np.array(1.0 + 2.0j),)),
    "abs of complex": (np.abs, (np.array(1.0 + 2.0j),)),
    "Python float": (lambda a: a * 3.0, (1.5,)),
}


@pytest.mark.parametrize("name", list(SCALAR_OUTPUTS))
@pytest.mark.parametrize("cotangent", [2.0, 2, 2.0 + 0.0j], ids=["float", "int", "complex"])
def test_a_cotangent_may_be_a_python_number(name, cotangent):
    f, args = SCALAR_OUTPUTS[name]
    y, back = wg.pullback(f, *args)
    as_array = np.asarray(cotangent, np.result_type(y, type(cotangent)))
    expected = back(as_array if np.iscomplexobj(y) else np.real(as_array))
    for got, want, arg in zip(back(cotangent), expected, args, strict=True):
        np.testing.assert_allclose(got, want)
        assert np.shape(got) == np.shape(arg) and np.result_type(got) == np.result_type(arg)
    # and under an outer derivative, where the pullback runs on tracers
    g = wg.gradient(lambda s: np.real(np.sum(wg.pullback(lambda *a: s * f(*a), *args)[1](
        cotangent)[0])), 1.5)
    assert np.isfinite(g[0])


@pytest.mark.parametrize("shape", [(1,), (1, 1), (1, 1, 1)])
def test_a_one_element_output_has_a_gradient(shape):
    x = np.array([0.5, -1.0, 2.0])
    f = lambda x: np.reshape(np.sum(x ** 3), shape)   # noqa: E731
    value, (g,) = wg.withgradient(f, x)
    assert np.shape(value) == shape
    np.testing.assert_allclose(g, 3 * x ** 2)
    np.testing.assert_allclose(wg.gradient(f, x)[0], g)
    np.testing.assert_allclose(wg.grad(f)(x), g)
    np.testing.assert_allclose(wg.hessian(f, x), np.diag(6 * x))
    params = wg.Params([x])
    np.testing.assert_allclose(wg.gradient(lambda: f(x), params)[x], g)
    assert wg.gradient(lambda x: x[:1] * 2.0, np.float32([1.0]))[0].dtype == np.float32


@pytest.mark.parametrize("f", [lambda x: x[:2], lambda x: x[:1] * 1j, lambda x: x[:0]],
                         ids=["two elements", "complex", "empty"])
def test_other_outputs_still_need_pullback_or_jacobian(f):
    with pytest.raises(wg.DifferentiationError, match="one real scalar"):
        wg.gradient(f, np.ones(3))
