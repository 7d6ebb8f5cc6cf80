"""Nothing is ever silently treated as a constant: each way of losing a derivative raises
wg.DifferentiationError naming what happened and a way out."""
import math
import re

import numpy as np
import pytest

import wengert as wg

X = np.array([0.5, 1.5, -2.0])
WAY_OUT = r"wg\.(rrule|primitive|stop_gradient)"


def _raises(f, x=X, *, names):
    """``gradient(f, x)`` raises DifferentiationError naming ``names`` and a way out."""
    with pytest.raises(wg.DifferentiationError) as info:
        wg.gradient(f, x)
    message = str(info.value)
    assert names in message, message
    return message


# (id, function of the traced argument, argument, text the message must contain)
CONVERSIONS = [
    ("np.asarray", lambda x: np.sum(np.asarray(x)), X, "np.asarray"),
    ("np.array", lambda x: np.sum(np.array(x)), X, "np.array"),
    ("np.array of a list of tracers", lambda x: np.sum(np.array([x, x])), 1.5, "np.stack"),
    ("a list nested in a list", lambda x: np.sum(np.concatenate([[x[0]], [2.0]])), X,
     "np.stack"),
    ("float", lambda x: float(x), 1.5, "float()"),
    ("float of 0-d", lambda x: float(x), np.array(1.5), "float()"),
    ("int", lambda x: int(x) * 1.0, 1.5, "int()"),
    ("complex", lambda x: np.real(complex(x)), 1.5, "complex()"),
    (".item()", lambda x: x.item(), np.array(1.5), ".item()"),
    (".item() of a scalar", lambda x: x.item(), np.float64(1.5), ".item()"),
    (".tolist()", lambda x: sum(x.tolist()), X, ".tolist()"),
    ("math.exp", lambda x: math.exp(x), 1.5, "math"),
    ("math.sqrt of an element", lambda x: math.sqrt(x[1]), X, "math"),
    ("range", lambda x: sum(range(x)) * 1.0, 3.0, "index"),
    ("index with a tracer", lambda x: np.sum(X[x]), 1.0, "np.asarray"),
    ("np.float64()", lambda x: np.float64(x), 1.5, "np.asarray"),
    ("np.ascontiguousarray", lambda x: np.sum(np.ascontiguousarray(x)), X, "np.asarray"),
]


@pytest.mark.parametrize("f, x, names", [c[1:] for c in CONVERSIONS],
                         ids=[c[0] for c in CONVERSIONS])
def test_conversion_to_a_concrete_value(f, x, names):
    message = _raises(f, x, names=names)
    assert "stop_gradient" in message
    assert "traced" in message


def test_assigning_into_a_traced_view():
    def f(x):
        x.reshape(3, 1)[0] = 1.0   # would write into x in NumPy: not followed, refused
        return np.sum(x)

    message = _raises(f, names="np.reshape")
    assert ".copy()" in message


@pytest.mark.parametrize("write", [
    lambda a, x: a.__setitem__(slice(None), x),
    lambda a, x: a.__setitem__(slice(0, 1), x[:1]),
    lambda a, x: a.__iadd__(x),
    lambda a, x: np.add(a, x, out=a),
    lambda a, x: np.copyto(a, x),
], ids=["a[:] = x", "a[0:1] = x[:1]", "a += x", "np.add(out=)", "np.copyto"])
def test_writing_a_tracer_into_a_plain_array(write):
    def f(x):
        a = np.zeros(3)
        write(a, x)
        return np.sum(a)

    with pytest.raises(wg.DifferentiationError):
        wg.gradient(f, X)


@pytest.mark.parametrize("target", [np.zeros(3), np.zeros(3, np.complex128), np.zeros((2, 2))],
                         ids=["float", "complex", "2-d"])
def test_writing_a_traced_scalar_into_a_plain_array_element(target):
    # NumPy reports a failed element write as "setting an array element with a sequence"
    # (a ValueError) whenever the value has __getitem__, keeping wengert's error as the
    # cause; either way the write never silently drops the derivative.
    def f(x):
        a = target.copy()
        a[(0,) * a.ndim] = x[0]
        return np.sum(np.real(a))

    with pytest.raises((wg.DifferentiationError, ValueError)) as info:
        wg.gradient(f, X)
    error = info.value
    assert isinstance(error, wg.DifferentiationError) or isinstance(
        error.__cause__, wg.DifferentiationError)


# Every public NumPy function has a rule, a definition or a refusal of its own (see
# rules/census.py); a ufunc made by np.frompyfunc has none.
DOUBLED = np.frompyfunc(lambda t: 2 * t, 1, 1)


@pytest.mark.parametrize("f, name", [
    (lambda x: np.sum(DOUBLED(x)), "np.<lambda>"),
], ids=["frompyfunc"])
def test_numpy_function_without_a_rule(f, name):
    message = _raises(f, names=name)
    assert "no derivative rule" in message
    assert "wg.rrule" in message and "wg.primitive" in message


@pytest.mark.parametrize("f", [
    lambda x: np.sum(np.sin(x, out=np.empty(3))),
    lambda x: np.sum(np.multiply(x, 2.0, out=np.empty(3))),
    lambda x: np.sum(np.sum(x, out=np.empty(()))),
    lambda x: np.sum(np.add.reduce(x, out=np.empty(()))),
], ids=["ufunc", "binary ufunc", "np.sum", "ufunc.reduce"])
def test_out_keyword(f):
    with pytest.raises(wg.DifferentiationError, match="out="):
        wg.gradient(f, X)


# ---------------------------------------------------------------------------------------------
# Tracers used after their transformation finished
# ---------------------------------------------------------------------------------------------

def _escape():
    kept = []

    def f(x):
        kept.append(x * 2)
        return np.sum(x)

    wg.gradient(f, X)
    return kept[0]


@pytest.mark.parametrize("use", [
    lambda t: np.sin(t), lambda t: t + 1.0, lambda t: 1.0 + t, lambda t: t[0],
    lambda t: t @ X, lambda t: np.sum(t),
], ids=["np.sin", "t + 1", "1 + t", "t[0]", "t @ X", "np.sum"])
def test_escaped_tracer_used_later(use):
    escaped = _escape()
    with pytest.raises(wg.DifferentiationError, match="escaped|finished"):
        use(escaped)


def test_escaped_tracer_used_inside_a_new_gradient():
    escaped = _escape()
    for f in (lambda y: np.sum(y * escaped), lambda y: np.sum(escaped * y)):
        with pytest.raises(wg.DifferentiationError, match="finished"):
            wg.gradient(f, X)


def test_inner_tracer_escaping_into_the_outer_function():
    kept = []

    def inner(y):
        kept.append(y)
        return y * y

    def outer(x):
        wg.gradient(inner, x)
        return wg.gradient(lambda z: z * kept[0], x)[0]

    with pytest.raises(wg.DifferentiationError, match="finished"):
        wg.gradient(outer, 2.0)


def test_error_messages_say_what_where_and_a_way_out():
    message = _raises(lambda x: np.sum(DOUBLED(x)), names="np.<lambda>")
    assert re.search(WAY_OUT, message)
    message = _raises(lambda x: float(x), 1.5, names="float()")
    assert re.search(WAY_OUT, message)


def test_keyword_only_traced_argument_is_an_error():
    @wg.primitive
    def scaled(x, *, by):
        return x * by

    with pytest.raises(wg.DifferentiationError, match="keyword-only"):
        wg.gradient(lambda x: np.sum(scaled(X, by=x)), X)


def test_traced_keyword_after_skipped_defaults_takes_its_position():
    # np.histogram(a, bins, range, density, weights): weights= skips range and density.
    (g,) = wg.gradient(lambda w: np.histogram(X, bins=2, weights=w)[0] @ [1.0, 2.0], X)
    np.testing.assert_array_equal(g, [2.0, 2.0, 1.0])
    (g,) = wg.gradient(lambda e: np.sum(np.diff(X, append=e) ** 2), 1.0)
    assert g == pytest.approx(2 * (1.0 - X[-1]))


def test_differentiation_error_is_a_type_error():
    assert issubclass(wg.DifferentiationError, TypeError)


def test_messages_name_scipy_ufuncs_by_their_module():
    special = pytest.importorskip("scipy.special")
    from wengert.errors import name_of

    assert name_of(special.erf) == "scipy.special.erf"
    assert name_of(np.sin) == "np.sin"
    assert name_of(np.linalg.solve) == "np.linalg.solve"


def test_checkpoint_registers_nothing_per_call():
    from wengert.registry import forward_rules, reverse_rules

    before = (len(reverse_rules.entries), len(forward_rules.entries))
    f = lambda x: np.sum(np.sin(x) ** 2)   # noqa: E731
    grads = [wg.gradient(wg.checkpoint(f), np.ones(3))[0] for _ in range(20)]
    assert (len(reverse_rules.entries), len(forward_rules.entries)) == before
    np.testing.assert_allclose(grads[-1], np.sin(2.0) * np.ones(3))
