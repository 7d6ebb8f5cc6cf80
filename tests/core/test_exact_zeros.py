"""Second derivatives where an outer cotangent or tangent is exactly zero.

Rules for derivatives with poles (``pole(...)`` in rules/ufuncs.py) clear 0·inf = NaN where
the cotangent (reverse) or tangent (forward) is 0. In nested differentiation that zero is a
tracer of the outer level and still carries a derivative: it must not be replaced by a
constant. Each op below is taken at a *regular* point, inside compositions that make the
zero appear in every nesting:

- ``square``: (g(x) - g(x0))²  -> 2 g'(x0)²   (zero cotangent into g: reverse inner)
- ``shift``:  (x - x0) · g(x)  -> 2 g'(x0)    (zero cotangent into g, its derivative is 1)
- ``chain``:  g(x0 + (x-x0)²)  -> 2 g'(x0)    (zero tangent into g: forward inner)
"""
import numpy as np
import pytest

import wengert as wg
from wengert.registry import reverse_rules

# (id, what it covers "op:argument", g, g', regular points). Points include values 0 and 1.
OPS = [
    ("x/3", "divide:0", lambda x: x / 3.0, lambda x: 1 / 3 + 0 * x, [0.0, 1.0, -2.0]),
    ("3/x", "divide:1", lambda x: 3.0 / x, lambda x: -3 / x ** 2, [1.0, 3.0, -0.5]),
    ("x/(x+1)", "divide:0,1", lambda x: np.true_divide(x, x + 1), lambda x: 1 / (x + 1) ** 2,
     [0.0, 1.0]),
    ("reciprocal", "reciprocal:0", np.reciprocal, lambda x: -1 / x ** 2, [1.0, -2.0, 0.5]),
    ("sqrt", "sqrt:0", np.sqrt, lambda x: 0.5 / np.sqrt(x), [1.0, 4.0, 0.25]),
    ("cbrt", "cbrt:0", np.cbrt, lambda x: 1 / (3 * np.cbrt(x) ** 2), [1.0, -8.0, 0.125]),
    ("x**2", "power:0", lambda x: x ** 2, lambda x: 2 * x, [0.0, 1.0, -1.5]),
    ("x**3", "power:0", lambda x: x ** 3, lambda x: 3 * x ** 2, [0.0, 1.0, -2.0]),
    ("x**0", "power:0", lambda x: x ** 0, lambda x: 0 * x, [0.0, 1.0, 2.0]),
    ("x**0.5", "power:0", lambda x: x ** 0.5, lambda x: 0.5 / np.sqrt(x), [1.0, 4.0]),
    ("x**-1", "power:0", lambda x: x ** -1, lambda x: -1 / x ** 2, [1.0, -2.0]),
    ("power(x,[2.5])", "power:0", lambda x: np.power(x, 2.5 * np.ones_like(x)),
     lambda x: 2.5 * x ** 1.5, [1.0, 2.0]),
    ("2**x", "power:1", lambda x: 2.0 ** x, lambda x: np.log(2) * 2.0 ** x, [0.0, 1.0, -1.0]),
    ("0.5**x", "power:1", lambda x: np.power(0.5, x), lambda x: np.log(0.5) * 0.5 ** x,
     [0.0, 1.0]),
    ("x**x", "power:0,1", lambda x: x ** x, lambda x: x ** x * (np.log(x) + 1), [1.0, 2.0]),
    ("(x+1)**(x-1)", "power:0,1", lambda x: (x + 1) ** (x - 1),   # exponent exactly 0 at 1
     lambda x: (x + 1) ** (x - 1) * (np.log(x + 1) + (x - 1) / (x + 1)), [1.0, 0.0]),
    ("float_power(x,2)", "float_power:0", lambda x: np.float_power(x, 2), lambda x: 2 * x,
     [0.0, 1.0, -1.5]),
    ("float_power(x,0.5)", "float_power:0", lambda x: np.float_power(x, 0.5),
     lambda x: 0.5 / np.sqrt(x), [1.0, 4.0]),
    ("float_power(x,0)", "float_power:0", lambda x: np.float_power(x, 0), lambda x: 0 * x,
     [0.0, 1.0]),
    ("float_power(2,x)", "float_power:1", lambda x: np.float_power(2.0, x),
     lambda x: np.log(2) * 2.0 ** x, [0.0, 1.0]),
    ("float_power(x,x)", "float_power:0,1", lambda x: np.float_power(x, x),
     lambda x: x ** x * (np.log(x) + 1), [1.0, 2.0]),
    ("log", "log:0", np.log, lambda x: 1 / x, [1.0, 2.0, 0.5]),
    ("log2", "log2:0", np.log2, lambda x: 1 / (x * np.log(2)), [1.0, 2.0]),
    ("log10", "log10:0", np.log10, lambda x: 1 / (x * np.log(10)), [1.0, 10.0]),
    ("log1p", "log1p:0", np.log1p, lambda x: 1 / (1 + x), [0.0, 1.0, -0.5]),
    ("arcsin", "arcsin:0", np.arcsin, lambda x: 1 / np.sqrt(1 - x * x), [0.0, 0.5, -0.5]),
    ("arccos", "arccos:0", np.arccos, lambda x: -1 / np.sqrt(1 - x * x), [0.0, 0.5, 1 / 3]),
    ("arccosh", "arccosh:0", np.arccosh, lambda x: 1 / np.sqrt(x * x - 1), [2.0, 1.5]),
    ("arctanh", "arctanh:0", np.arctanh, lambda x: 1 / (1 - x * x), [0.0, 0.5, -0.5]),
    ("sinc", "sinc:0", np.sinc,
     lambda x: (np.cos(np.pi * x) - np.sinc(x)) / x if x != 0 else 0.0, [0.5, 1.0, -0.25]),
]

COMPOSITIONS = {   # name -> (build f from g and x0, f''(x0) from g'(x0))
    "square": (lambda g, x0: (lambda x, c=g(x0): (g(x) - c) * (g(x) - c)),
               lambda dg: 2 * dg * dg),
    "shift": (lambda g, x0: (lambda x: (x - x0) * g(x)), lambda dg: 2 * dg),
    "chain": (lambda g, x0: (lambda x: g(x0 + (x - x0) * (x - x0))), lambda dg: 2 * dg),
}

FIRST = {"rev": lambda f, x: wg.gradient(f, x)[0], "fwd": lambda f, x: wg.derivative(f, x)}
NESTINGS = [("rev", "rev"), ("fwd", "rev"), ("rev", "fwd"), ("fwd", "fwd")]   # (outer, inner)


def second(f, x, outer, inner):
    return FIRST[outer](lambda z: FIRST[inner](f, z), x)


POINTS = [(f"{name}@{x0:g}", name, g, dg, x0) for name, _, g, dg, pts in OPS for x0 in pts]
CASES = [pytest.param(g, dg, x0, id=cid) for cid, _, g, dg, x0 in POINTS]
NEST_IDS = [f"{o}-over-{i}" for o, i in NESTINGS]


def test_table_covers_every_singular_rule():
    """Every NumPy op declared with ``pole(...)`` appears, each of its arguments differentiated.
    (SciPy's ufuncs with poles have the same family of tests in tests/scipy/test_special.py.)"""
    singular = {rule.fn: len(rule.elementwise[0]) for rules in reverse_rules.entries.values()
                for rule in rules if rule.elementwise and rule.elementwise[1]
                and getattr(np, getattr(rule.fn, "__name__", ""), None) is rule.fn}
    assert singular, "no singular elementwise rules found: has the registry changed?"
    covered = {(op, int(a)) for _, cov, *_ in OPS
               for op, args in [cov.split(":")] for a in args.split(",")}
    for fn, nargs in singular.items():
        for a in range(nargs):
            assert (fn.__name__, a) in covered, f"{fn.__name__} argument {a} is not tested"


@pytest.mark.parametrize("outer, inner", NESTINGS, ids=NEST_IDS)
@pytest.mark.parametrize("comp", list(COMPOSITIONS))
@pytest.mark.parametrize("g, dg, x0", CASES)
def test_second_derivative_at_an_exact_zero(g, dg, x0, comp, outer, inner):
    build, expect = COMPOSITIONS[comp]
    f = build(g, x0)
    expected = expect(dg(x0))
    got = second(f, x0, outer, inner)
    assert np.isfinite(got) and got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # The AD first derivative, differentiated by central differences, agrees.
    h = 1e-5
    fd = (FIRST[inner](f, x0 + h) - FIRST[inner](f, x0 - h)) / (2 * h)
    assert fd == pytest.approx(expected, rel=1e-6, abs=1e-7)


def _f32_params(comps, points, dtype_checked):
    """(g, g', x0, composition, outer, inner) for float32 runs; with ``dtype_checked`` only
    where f itself is float32 (not float_power). Forward over forward once promoted float32
    to float64 where a partial at a Python-float constant (np.divide(1.0, 3.0) for x/3.0,
    np.log(2.0) for 2.0**x) multiplied a traced tangent: the dtype checks keep that fixed."""
    return [pytest.param(g, dg, x0, comp, o, i, id=f"{cid}-{comp}-{o}-over-{i}")
            for cid, name, g, dg, x0 in points for comp in comps for o, i in NESTINGS
            if not (dtype_checked and name.startswith("float_power"))]


@pytest.mark.parametrize("g, dg, x0, comp, outer, inner",
                         _f32_params(COMPOSITIONS, POINTS, dtype_checked=False))
def test_second_derivative_at_an_exact_zero_float32(g, dg, x0, comp, outer, inner):
    build, expect = COMPOSITIONS[comp]
    x32 = np.float32(x0)
    got = second(build(g, x32), x32, outer, inner)
    assert got == pytest.approx(expect(dg(x0)), rel=2e-3, abs=1e-4)


@pytest.mark.parametrize("g, dg, x0, comp, outer, inner",
                         _f32_params(COMPOSITIONS, POINTS, dtype_checked=True))
def test_second_derivative_keeps_float32(g, dg, x0, comp, outer, inner):
    x32 = np.float32(x0)
    f = COMPOSITIONS[comp][0](g, x32)
    assert np.result_type(f(x32)) == np.float32
    assert np.result_type(second(f, x32, outer, inner)) == np.float32


# --- sinc: its own second derivative, −π²/3 at 0 ---------------------------------------------

def _sinc2(x):
    if abs(x) < 1e-3:
        return -np.pi ** 2 / 3 + np.pi ** 4 * x * x / 10
    s, c = np.sin(np.pi * x), np.cos(np.pi * x)
    return (-np.pi * x * s - 2 * (c - np.sinc(x))) / (x * x)


@pytest.mark.parametrize("outer, inner", NESTINGS, ids=NEST_IDS)
@pytest.mark.parametrize("x0", [0.0, 1e-9, 0.3, 1.0], ids=lambda x: f"sinc@{x:g}")
def test_sinc_second_derivative(x0, outer, inner):
    got = second(np.sinc, x0, outer, inner)
    assert got == pytest.approx(_sinc2(x0), rel=1e-7, abs=1e-9)


# --- small arrays: Hessians in every nesting -------------------------------------------------

def _hessians(f, x):
    grad = lambda z: wg.gradient(f, z)[0]
    jac_fwd = lambda z: wg.jacobian(f, z, mode="forward")[0]
    return {
        "rev-over-rev": wg.jacobian(grad, x)[0],
        "fwd-over-rev": wg.hessian(f, x),
        "fwd-over-rev(jacobian)": wg.jacobian(grad, x, mode="forward")[0],
        "rev-over-fwd": wg.jacobian(jac_fwd, x)[0],
        "fwd-over-fwd": wg.jacobian(jac_fwd, x, mode="forward")[0],
    }


def _fd_hessian(f, x, h=1e-5):
    x = np.asarray(x, np.float64)
    cols = [(wg.gradient(f, x + h * e)[0] - wg.gradient(f, x - h * e)[0]) / (2 * h)
            for e in np.eye(x.size)]
    return np.stack(cols, axis=-1)


def _swap(n):
    """E[i, n-1-i] = 1: the pairing of x with x[::-1]."""
    return np.eye(n)[::-1]


ARRAY_COMPOSITIONS = {   # name -> (f from g and x0, Hessian from g'(x0))
    "sum-square": (lambda g, x0: (lambda x: np.sum((g(x) - g(x0)) * (g(x) - g(x0)))),
                   lambda d: np.diag(2 * d * d)),
    "square-sum": (lambda g, x0: (lambda x: (np.sum(g(x)) - np.sum(g(x0))) ** 2),
                   lambda d: 2 * np.outer(d, d)),
    "shift": (lambda g, x0: (lambda x: np.sum((x - x0) * g(x))), lambda d: np.diag(2 * d)),
    "chain-paired": (lambda g, x0: (lambda x: np.sum(g(x0 + (x - x0) * (x - x0)[::-1]))),
                     lambda d: _swap(len(d)) * (d + d[::-1])[:, None]),
}


@pytest.mark.parametrize("comp", list(ARRAY_COMPOSITIONS))
@pytest.mark.parametrize("g, dg, points", [pytest.param(*o[2:], id=o[0]) for o in OPS])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_hessian_of_array_at_an_exact_zero(g, dg, points, comp, dtype):
    build, expect = ARRAY_COMPOSITIONS[comp]
    x0 = np.array(points, dtype)
    f = build(g, x0)
    expected = expect(np.array([dg(p) for p in points]))
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-3, atol=1e-3)
    for nesting, hess in _hessians(f, x0).items():
        assert hess.shape == x0.shape * 2, nesting
        np.testing.assert_allclose(hess, hess.T, **tol, err_msg=f"{nesting}: not symmetric")
        np.testing.assert_allclose(hess, expected, **tol, err_msg=nesting)
    if dtype == np.float64:
        np.testing.assert_allclose(_fd_hessian(f, x0), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("g, dg, x0, comp, outer, inner", _f32_params(
    ARRAY_COMPOSITIONS, [(o[0], o[0], o[2], o[3], o[4]) for o in OPS], dtype_checked=True))
def test_hessian_keeps_float32(g, dg, x0, comp, outer, inner):
    x0 = np.array(x0, np.float32)
    f = ARRAY_COMPOSITIONS[comp][0](g, x0)
    assert np.result_type(f(x0)) == np.float32
    assert _hessians(f, x0)[f"{outer}-over-{inner}"].dtype == np.float32


@pytest.mark.parametrize("fn", [np.power, np.float_power], ids=lambda f: f.__name__)
@pytest.mark.parametrize("x, p", [(2.0, 0.0), (1.0, 0.0), (2.0, 1.0), (1.0, 1.0), (0.5, 2.0),
                                  (3.0, -1.0)], ids=lambda v: f"{v:g}")
def test_power_hessian_in_base_and_exponent(fn, x, p):
    """A traced exponent exactly 0 still carries ∂²(x^p)/∂x∂p = x^(p-1)(1 + p ln x)."""
    cross = x ** (p - 1) * (1 + p * np.log(x))
    expected = np.array([[p * (p - 1) * x ** (p - 2), cross], [cross, x ** p * np.log(x) ** 2]])
    f = lambda v: fn(v[0], v[1])
    for nesting, hess in _hessians(f, np.array([x, p])).items():
        np.testing.assert_allclose(hess, expected, rtol=1e-12, atol=1e-15, err_msg=nesting)
    np.testing.assert_allclose(_fd_hessian(f, [x, p]), expected, rtol=1e-6, atol=1e-8)


# --- least squares at the exact fit: H = 2 JᵀJ ------------------------------------------------

XS = np.linspace(0.0, 3.0, 7)
P0 = np.array([2.0, 1.5])                 # (a, τ)
YS = P0[0] * np.exp(-XS / P0[1])          # the same expression: residuals are exactly 0


def _least_squares(p):
    return np.sum((p[0] * np.exp(-XS / p[1]) - YS) ** 2)


def test_least_squares_hessian_at_the_exact_fit():
    e = np.exp(-XS / P0[1])
    J = np.stack([e, P0[0] * e * XS / P0[1] ** 2], axis=1)
    expected = 2 * J.T @ J
    assert _least_squares(P0) == 0.0
    for nesting, hess in _hessians(_least_squares, P0).items():
        np.testing.assert_allclose(hess, hess.T, rtol=1e-12, err_msg=f"{nesting}: not symmetric")
        np.testing.assert_allclose(hess, expected, rtol=1e-10, err_msg=nesting)
    np.testing.assert_allclose(_fd_hessian(_least_squares, P0), expected, rtol=1e-6)


# --- the guard itself: a plain zero cotangent at a pole gives 0, not NaN -----------------------

POLES = [   # (id, g, a point where g' is infinite or undefined, a regular point)
    ("sqrt@0", np.sqrt, 0.0, 0.5), ("cbrt@0", np.cbrt, 0.0, 0.5), ("log@0", np.log, 0.0, 0.5),
    ("log2@0", np.log2, 0.0, 0.5), ("log10@0", np.log10, 0.0, 0.5),
    ("log1p@-1", np.log1p, -1.0, 0.5), ("reciprocal@0", np.reciprocal, 0.0, 0.5),
    ("1/x@0", lambda x: 1.0 / x, 0.0, 0.5), ("x/x@0", lambda x: x / x, 0.0, 0.5),
    ("x**0.5@0", lambda x: x ** 0.5, 0.0, 0.5), ("x**-1@0", lambda x: x ** -1, 0.0, 0.5),
    ("float_power(x,0.5)@0", lambda x: np.float_power(x, 0.5), 0.0, 0.5),
    ("arcsin@1", np.arcsin, 1.0, 0.5), ("arccos@-1", np.arccos, -1.0, 0.5),
    ("arccosh@1", np.arccosh, 1.0, 1.5), ("arctanh@1", np.arctanh, 1.0, 0.5),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("g, x0, regular", [pytest.param(*p[1:], id=p[0]) for p in POLES])
def test_branch_not_taken_leaks_nothing(g, x0, regular):
    f = lambda x: np.where(x == x0, 0.0, g(x))
    assert wg.gradient(f, x0) == (0.0,)
    assert wg.derivative(f, x0) == 0.0
    for outer, inner in NESTINGS:   # "second derivatives are protected the same way"
        assert second(f, x0, outer, inner) == 0.0, f"{outer}-over-{inner}"
    xs = np.array([x0, regular])   # the regular element keeps its gradient
    gx = wg.gradient(lambda x: np.sum(np.where(x == x0, 0.0, g(x))), xs)[0]
    assert gx[0] == 0.0 and gx[1] == pytest.approx(wg.gradient(g, regular)[0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("f, x, expected", [
    (lambda x: np.where(x > 0, np.sqrt(x), 0.0), 0.0, 0.0),
    (lambda x: np.where(x > 0, np.log(x), 0.0), 0.0, 0.0),
    (lambda x: np.where(x < 1, np.arcsin(x), 0.0), 1.0, 0.0),
    (lambda x: np.where(x > 0, x * np.log(x), 0.0), 0.0, 0.0),
    (lambda x: np.where(x > 30, x, np.log1p(np.exp(x))), 1000.0, 1.0),
], ids=["sqrt", "log", "arcsin", "entropy", "softplus"])
def test_documented_where_examples(f, x, expected):
    assert wg.gradient(f, x) == (expected,)
    assert wg.derivative(f, x) == expected
    # Second derivatives too: exp's overflow in softplus's branch not taken once made forward
    # over reverse NaN, since a selection's zero cotangent became a traced zero.
    for outer, inner in NESTINGS:
        assert second(f, x, outer, inner) == 0.0, f"{outer}-over-{inner}"
    xs = np.array([x, x + 0.5])
    h = wg.hessian(lambda v: np.sum(f(v)), xs)
    assert np.all(np.isfinite(h)) and h[0, 0] == 0.0 and h[0, 1] == h[1, 0] == 0.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pole_on_the_path_taken_is_not_masked():
    # docs/conventions.md: the policy only masks zero cotangents; a real pole stays.
    assert wg.gradient(np.sqrt, 0.0)[0] == np.inf
    assert np.isnan(wg.gradient(lambda x: np.sqrt(np.sum(x ** 2)), np.zeros(3))[0]).all()
    _, back = wg.pullback(np.sqrt, 0.0)
    assert back(0.0) == (0.0,)
