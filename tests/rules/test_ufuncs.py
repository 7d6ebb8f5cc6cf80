"""Elementwise rules, driven by one spec table.

``SPECS`` lists every differentiable elementwise function of rules/ufuncs.py with the domain of
each argument (where it is smooth: away from kinks, poles and branch cuts) and, where the
function accepts complex input, a complex domain. The arity is the number of domains. Tests
run the table over shapes, broadcasting pairs and dtypes, then cover the Python operators, the
ufunc keywords, the non-differentiable functions, the NaN/subgradient policy and the complex
convention (see docs/conventions.md). Every check runs in both modes; forward mode also has its
own tests: the tangent's shape, precision and sparsity (a OneHot stays an ``Indexed`` until
broadcasting spreads it), forward over forward, complex JVPs and zero tangents at poles.
"""
import zlib
from collections import namedtuple

import numpy as np
import pytest

import wengert as wg
from wengert.core.levels import Tracer
from wengert.registry import forward_rules, reverse_rules
from wengert.rules._helpers import forward
from wengert.tangents import ZERO, Indexed, OneHot, is_zero, to_dense
from wengert.testing import check_grads

BOTH = ("reverse", "forward")
# NumPy warns that where= without out= leaves the masked-off outputs uninitialized: expected.
pytestmark = pytest.mark.filterwarnings("ignore:'where' used without 'out':UserWarning")


def check(f, *args, **kwargs):
    check_grads(f, *args, modes=BOTH, **kwargs)


def rng_for(*key):
    """A generator seeded by the test case, so every case is reproducible on its own."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


# ---------------------------------------------------------------------------------------------
# Domains: functions (rng, shape) -> float64 or complex128 values
# ---------------------------------------------------------------------------------------------

def uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def away_from_zero(lo, hi):
    return lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(lo, hi, shape)


def complex_box(re, im):
    return lambda rng, shape: rng.uniform(*re, shape) + 1j * rng.uniform(*im, shape)


def off_real_axis(rng, shape):
    """Complex numbers at least 0.5 from the real axis: away from 0 and from the branch cut of
    angle (the negative real axis)."""
    return rng.uniform(-2, 2, shape) + 1j * away_from_zero(0.5, 2)(rng, shape)


def below(rng, shape):
    """Values in [k, k + 0.3): never within 0.2 of a value drawn by ``above``, so max/min never
    tie (not even after a finite-difference step)."""
    return rng.integers(-2, 2, shape) + rng.uniform(0.0, 0.3, shape)


def above(rng, shape):
    return rng.integers(-2, 2, shape) + rng.uniform(0.5, 0.8, shape)


REAL = uniform(-2, 2)
POSITIVE = uniform(0.5, 2)
UNIT = uniform(-0.8, 0.8)            # arcsin, arccos, arctanh
ABOVE_ONE = uniform(1.3, 3)          # arccosh
NONZERO = away_from_zero(0.5, 2)     # poles and kinks at 0
# remainder/fmod: |x| < |y| and x away from 0, so floor(x/y) is 0 or -1 and does not jump
DIVIDEND = away_from_zero(0.3, 2.5)
DIVISOR = away_from_zero(3.0, 3.3)

C_PLANE = off_real_axis
C_RIGHT = complex_box((0.5, 2), (-1, 1))        # sqrt, log, power base: off the cut (-inf, 0]
C_SMALL = complex_box((-1, 1), (-1, 1))
C_UNIT = complex_box((-0.7, 0.7), (-0.4, 0.4))  # arcsin & co.: off the cuts |x| > 1, |iy| > 1
C_ABOVE_ONE = complex_box((1.3, 3), (-0.5, 0.5))

Spec = namedtuple("Spec", "name fn domains complex_domains")


def spec(fn, *domains, complex_domains=None, name=None):
    return Spec(name or fn.__name__, fn, domains, complex_domains)


SPECS = [
    # arithmetic
    spec(np.add, REAL, REAL, complex_domains=(C_PLANE, C_PLANE)),
    spec(np.subtract, REAL, REAL, complex_domains=(C_PLANE, C_PLANE)),
    spec(np.multiply, REAL, REAL, complex_domains=(C_PLANE, C_PLANE)),
    spec(np.divide, REAL, NONZERO, complex_domains=(C_PLANE, C_PLANE), name="divide"),
    spec(np.true_divide, REAL, NONZERO, complex_domains=(C_PLANE, C_PLANE), name="true_divide"),
    spec(np.power, POSITIVE, REAL, complex_domains=(C_RIGHT, C_SMALL)),
    spec(np.float_power, POSITIVE, REAL, complex_domains=(C_RIGHT, C_SMALL)),
    spec(np.remainder, DIVIDEND, DIVISOR),
    spec(np.fmod, DIVIDEND, DIVISOR),
    spec(np.negative, REAL, complex_domains=(C_PLANE,)),
    spec(np.positive, REAL, complex_domains=(C_PLANE,)),
    spec(np.reciprocal, NONZERO, complex_domains=(C_PLANE,)),
    spec(np.square, REAL, complex_domains=(C_PLANE,)),
    spec(np.sqrt, POSITIVE, complex_domains=(C_RIGHT,)),
    spec(np.cbrt, NONZERO),
    spec(np.absolute, NONZERO, complex_domains=(C_PLANE,)),
    spec(np.fabs, NONZERO),
    # exponentials and logarithms
    spec(np.exp, REAL, complex_domains=(C_SMALL,)),
    spec(np.exp2, REAL, complex_domains=(C_SMALL,)),
    spec(np.expm1, REAL, complex_domains=(C_SMALL,)),
    spec(np.log, POSITIVE, complex_domains=(C_RIGHT,)),
    spec(np.log2, POSITIVE, complex_domains=(C_RIGHT,)),
    spec(np.log10, POSITIVE, complex_domains=(C_RIGHT,)),
    spec(np.log1p, uniform(-0.5, 2), complex_domains=(C_RIGHT,)),
    spec(np.logaddexp, REAL, REAL),
    spec(np.logaddexp2, REAL, REAL),
    # trigonometric and hyperbolic
    spec(np.sin, REAL, complex_domains=(C_SMALL,)),
    spec(np.cos, REAL, complex_domains=(C_SMALL,)),
    spec(np.tan, uniform(-1.2, 1.2), complex_domains=(C_SMALL,)),
    spec(np.arcsin, UNIT, complex_domains=(C_UNIT,)),
    spec(np.arccos, UNIT, complex_domains=(C_UNIT,)),
    spec(np.arctan, REAL, complex_domains=(C_UNIT,)),
    spec(np.sinh, REAL, complex_domains=(C_SMALL,)),
    spec(np.cosh, REAL, complex_domains=(C_SMALL,)),
    spec(np.tanh, REAL, complex_domains=(C_SMALL,)),
    spec(np.arcsinh, REAL, complex_domains=(C_UNIT,)),
    spec(np.arccosh, ABOVE_ONE, complex_domains=(C_ABOVE_ONE,)),
    spec(np.arctanh, UNIT, complex_domains=(C_UNIT,)),
    spec(np.arctan2, NONZERO, NONZERO),
    spec(np.hypot, REAL, REAL),
    spec(np.sinc, REAL, complex_domains=(C_SMALL,)),
    spec(np.deg2rad, REAL),
    spec(np.rad2deg, REAL),
    # piecewise
    spec(np.maximum, below, above),
    spec(np.minimum, below, above),
    spec(np.fmax, above, below),
    spec(np.fmin, above, below),
    spec(np.copysign, NONZERO, NONZERO),
    # complex parts
    spec(np.conjugate, REAL, complex_domains=(C_PLANE,)),
    spec(np.real, REAL, complex_domains=(C_PLANE,)),
    spec(np.imag, REAL, complex_domains=(C_PLANE,)),
    spec(np.angle, NONZERO, complex_domains=(C_PLANE,)),
    spec(lambda z: np.angle(z, deg=True), NONZERO, complex_domains=(C_PLANE,),
         name="angle(deg=True)"),
]
UNARY = [s for s in SPECS if len(s.domains) == 1]
BINARY = [s for s in SPECS if len(s.domains) == 2]
BY_NAME = {s.name: s for s in SPECS}

SCALAR = "python scalar"


def make(domain, shape, dtype, rng):
    """A value from ``domain``: a Python float/complex for SCALAR, else an array of ``dtype``."""
    if shape == SCALAR:
        value = domain(rng, ())
        return complex(value) if np.dtype(dtype).kind == "c" else float(value)
    return np.asarray(domain(rng, shape)).astype(dtype)


def domain_for(s, position, dtype):
    return (s.complex_domains if np.dtype(dtype).kind == "c" else s.domains)[position]


def dtypes_of(s):
    return ["float32", "float64"] + (["complex128"] if s.complex_domains else [])


def test_spec_table_covers_every_elementwise_rule():
    """Every NumPy function with an elementwise rule (or a rule in rules/ufuncs.py) is in the
    table; clip has its own tests below."""
    def elementwise_rule(rule):
        return (rule.impl.__qualname__.startswith("elementwise.")
                or rule.impl.__module__ == "wengert.rules.ufuncs")

    declared = {fn for fn, entries in reverse_rules.entries.items()
                if getattr(np, getattr(fn, "__name__", ""), None) is fn
                and any(elementwise_rule(r) for r in entries)}
    assert len(declared) > 50
    assert declared - {s.fn for s in SPECS} == {np.clip}


# ---------------------------------------------------------------------------------------------
# Every function, every shape, every dtype
# ---------------------------------------------------------------------------------------------

SHAPES = [SCALAR, (), (3,), (2, 3)]


def unary_cases():
    for s in UNARY:
        for dtype in dtypes_of(s):
            for shape in SHAPES:
                if shape == SCALAR and dtype == "float32":
                    continue  # a Python float is double precision
                yield pytest.param(s, shape, dtype, id=f"{s.name}-{shape}-{dtype}")


@pytest.mark.parametrize("s, shape, dtype", list(unary_cases()))
def test_unary(s, shape, dtype):
    x = make(domain_for(s, 0, dtype), shape, dtype, rng_for(s.name, shape, dtype))
    check(s.fn, x)   # also checks that the gradient has x's type, shape and dtype


BROADCAST_PAIRS = [
    (SCALAR, SCALAR), ((), ()), ((3,), (3,)), ((2, 3), (2, 3)),
    ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)), ((), (2, 3)),
    ((2, 3), SCALAR), (SCALAR, (2, 3)),
]


def binary_cases():
    for s in BINARY:
        for dtype in dtypes_of(s):
            for shapes in BROADCAST_PAIRS:
                if shapes == (SCALAR, SCALAR) and dtype == "float32":
                    continue
                yield pytest.param(s, shapes, (dtype, dtype), id=f"{s.name}-{shapes}-{dtype}")
        if s.complex_domains:  # a real argument meeting a complex one gets a real gradient
            for dtypes in [("float64", "complex128"), ("complex128", "float64")]:
                yield pytest.param(s, ((2, 3), (3,)), dtypes, id=f"{s.name}-{'-'.join(dtypes)}")


@pytest.mark.parametrize("s, shapes, dtypes", list(binary_cases()))
def test_binary(s, shapes, dtypes):
    rng = rng_for(s.name, shapes, dtypes)
    x, y = (make(domain_for(s, i, dtypes[i]), shapes[i], dtypes[i], rng) for i in range(2))
    check(s.fn, x, y)


@pytest.mark.parametrize("s", BINARY, ids=lambda s: s.name)
def test_binary_one_argument_constant(s):
    """Only one argument traced: the other is a constant of the rule (needs is False)."""
    rng = rng_for(s.name, "constant")
    x = make(s.domains[0], (2, 3), "float64", rng)
    y = make(s.domains[1], (3,), "float64", rng)
    check(lambda x: s.fn(x, y), x)
    check(lambda y: s.fn(x, y), y)


# The cotangent a rule hands back, before wg.gradient casts anything: a probe primitive just
# before the function records it.
@wg.primitive
def probe(x):
    return x


_seen = []


@wg.rrule(probe)
def _probe_rule(x):
    def probe_pullback(ct):
        _seen.append(ct)
        return (ct,)

    return x, probe_pullback


# A library-style forward rule (wg.frule's user rules see dense tangents): it records the
# tangent as the rule before it left it, sparse or not.
@forward(probe)
def _probe_forward(tangents, x):
    _seen.append(tangents[0])
    return x, tangents[0]


def rule_cotangents(f, *args):
    _seen.clear()
    y, back = wg.pullback(lambda *a: f(*(probe(v) for v in a)), *args)
    back(np.ones_like(y))
    return _seen[::-1]   # the probes run backwards


def cotangent_dtype_cases():
    for s in SPECS:
        for dtype in dtypes_of(s):
            yield pytest.param(s, dtype, id=f"{s.name}-{dtype}")


@pytest.mark.parametrize("s, dtype", list(cotangent_dtype_cases()))
def test_rule_keeps_shape_and_precision(s, dtype):
    """float32 stays float32 inside the chain (not only after wg.gradient casts it back), and
    a broadcast argument gets a cotangent of its own shape."""
    rng = rng_for(s.name, dtype, "probe")
    shapes = [(2, 3), (3,)][: len(s.domains)]
    args = [make(domain_for(s, i, dtype), shape, dtype, rng) for i, shape in enumerate(shapes)]
    for x, ct in zip(args, rule_cotangents(s.fn, *args)):
        assert np.shape(ct) == x.shape
        if x.dtype.kind == "c":
            # A real cotangent is a valid one for a complex argument (zero imaginary part).
            assert np.result_type(ct) in (np.complex128, np.float64)
        else:
            assert np.result_type(ct) == x.dtype


# ---------------------------------------------------------------------------------------------
# Forward mode: the tangent has the output's shape and precision, and stays sparse
# ---------------------------------------------------------------------------------------------

def frule_of(fn):
    """The library's forward rule of ``fn``, called as ``rule(tangents, *args)``."""
    return forward_rules.generic[fn].impl


def tangent_like(x, rng):
    """A random tangent for primal ``x``: a Python float for a float, else ``x``'s dtype."""
    if type(x) is float:
        return float(rng.standard_normal())
    t = rng.standard_normal(np.shape(x)) + (1j * rng.standard_normal(np.shape(x))
                                             if np.iscomplexobj(x) else 0)
    return np.asarray(t).astype(np.result_type(x))


def forward_shape_cases():
    for s in BINARY:
        for dtype in ["float32", "float64"]:
            for shapes in BROADCAST_PAIRS[1:]:
                for carrier in (0, 1):
                    yield pytest.param(s, shapes, dtype, carrier,
                                       id=f"{s.name}-{shapes}-{dtype}-d{'xy'[carrier]}")


@pytest.mark.parametrize("s, shapes, dtype, carrier", list(forward_shape_cases()))
def test_forward_tangent_has_the_output_shape_and_dtype(s, shapes, dtype, carrier):
    """Only one argument carries a tangent; when it is the broadcast one (a scalar x against
    an array y), its tangent still spreads over the whole output. (check_grads cannot see a
    tangent missing its broadcast: paired with the output cotangent it sums the same.)"""
    rng = rng_for(s.name, shapes, dtype, carrier, "forward shape")
    args = [make(domain_for(s, i, dtype), shapes[i], dtype, rng) for i in range(2)]
    tangents = [ZERO, ZERO]
    tangents[carrier] = tangent_like(args[carrier], rng)
    y, dy = wg.jvp(s.fn, tuple(args), tuple(tangents))
    assert np.shape(dy) == np.shape(y)
    assert np.result_type(dy) == np.result_type(y)
    t = np.broadcast_to(tangents[carrier], np.shape(y))
    eps = 1e-6
    shifted = [list(args), list(args)]
    for sign, a in zip((1, -1), shifted):
        a[carrier] = np.asarray(args[carrier], np.float64) + sign * eps * np.asarray(
            tangents[carrier], np.float64)
    numeric = (s.fn(*shifted[0]) - s.fn(*shifted[1])) / (2 * eps)
    tol = 2e-2 if dtype == "float32" else 1e-5
    np.testing.assert_allclose(dy, np.broadcast_to(numeric, t.shape), rtol=tol, atol=tol)


def unary_dtype_cases():
    for s in UNARY:
        for dtype in dtypes_of(s):
            yield pytest.param(s, dtype, id=f"{s.name}-{dtype}")


@pytest.mark.parametrize("s, dtype", list(unary_dtype_cases()))
def test_forward_tangent_keeps_precision(s, dtype):
    """A float32 tangent stays float32 through every rule (not promoted by a float64
    constant inside a partial); a real function of complex input has a real tangent."""
    rng = rng_for(s.name, dtype, "forward dtype")
    x = make(domain_for(s, 0, dtype), (2, 3), dtype, rng)
    y, dy = wg.jvp(s.fn, (x,), (tangent_like(x, rng),))
    assert np.shape(dy) == y.shape
    assert np.result_type(dy) == y.dtype


def test_forward_tangent_of_python_floats_is_a_scalar():
    assert wg.derivative(np.sin, 0.3) == pytest.approx(np.cos(0.3))
    y, dy = wg.jvp(np.hypot, (3.0, 4.0), (1.0, 0.0))
    assert np.ndim(dy) == 0 and dy == pytest.approx(0.6)
    y, dy = wg.jvp(lambda x: x + np.ones((2, 3)), (2.0,), (1.0,))
    np.testing.assert_array_equal(dy, np.ones((2, 3)))


def sparse_cases():
    for s in SPECS:
        if s.fn not in forward_rules.generic:
            continue   # a lambda (angle with deg=True): covered through jvp below
        for dtype in dtypes_of(s):
            for carrier in range(len(s.domains)):
                others = [(2, 3)] if len(s.domains) == 1 else [(2, 3), (3,), ()]
                for other in others:
                    yield pytest.param(s, dtype, carrier, other,
                                       id=f"{s.name}-{dtype}-d{'xy'[carrier]}-{other}")


@pytest.mark.parametrize("s, dtype, carrier, other", list(sparse_cases()))
def test_one_hot_tangent_stays_indexed(s, dtype, carrier, other):
    """A OneHot tangent of an argument shaped like the output gives an Indexed tangent (the
    partial read at one element), equal to what the dense tangent gives, even when the other
    argument is broadcast."""
    rng = rng_for(s.name, dtype, carrier, other, "sparse")
    shapes = [(2, 3), (2, 3)][: len(s.domains)]
    if len(shapes) == 2:
        shapes[1 - carrier] = other
    args = [make(domain_for(s, i, dtype), shape, dtype, rng) for i, shape in enumerate(shapes)]
    units = [OneHot((1, 2), (2, 3), dtype)]
    if np.dtype(dtype).kind == "c":     # along the imaginary axis too
        units.append(Indexed((1, 2), np.array(1j), (2, 3), dtype))
    for unit in units:
        tangents = [ZERO] * len(args)
        tangents[carrier] = unit
        out, dy = frule_of(s.fn)(tangents, *args)
        tangents[carrier] = to_dense(unit)
        _, dense = frule_of(s.fn)(tangents, *args)
        if is_zero(dense):   # no derivative along this argument (copysign's sign, imag(real))
            assert is_zero(dy)
            continue
        assert isinstance(dy, Indexed) and dy.shape == out.shape
        assert to_dense(dy).dtype == np.result_type(dense)
        np.testing.assert_allclose(to_dense(dy), dense, rtol=1e-6, atol=0)
        assert np.count_nonzero(to_dense(dy)) <= 1   # one element, not a row
        assert np.count_nonzero(np.delete(np.ravel(dense), 5)) == 0


def rule_tangents(f, *args, tangents):
    """The tangents a chain hands to each ``probe`` inside ``f``, in order."""
    _seen.clear()
    wg.jvp(f, args, tangents)
    return list(_seen)


def test_one_hot_stays_sparse_along_a_chain_until_broadcasting_spreads_it(rng):
    x = rng.standard_normal((2, 3))
    y = rng.standard_normal((2, 3))
    row = rng.standard_normal(3)
    big = rng.standard_normal((4, 2, 3))
    f = lambda x: probe(probe(probe(probe(np.exp(x)) * y) - 2.0) - row * x) + big

    seen = rule_tangents(f, x, tangents=(OneHot((0, 1), (2, 3)),))
    assert [type(t) for t in seen[:3]] == [Indexed] * 3   # exp, times y, minus a constant
    assert isinstance(seen[3], Indexed)                    # minus row * x: row is broadcast
    expected = np.zeros((2, 3))
    expected[0, 1] = np.exp(x[0, 1]) * y[0, 1] - row[1]
    np.testing.assert_allclose(to_dense(seen[3]), expected)
    _, dy = wg.jvp(f, (x,), (OneHot((0, 1), (2, 3)),))
    assert dy.shape == (4, 2, 3)                           # + big: spread over the new axis
    np.testing.assert_allclose(dy, np.broadcast_to(expected, (4, 2, 3)))


def test_one_hot_becomes_dense_only_when_its_argument_is_broadcast(rng):
    x = rng.standard_normal(3)
    for fn in (np.add, np.subtract, np.multiply):
        _, same = frule_of(fn)([OneHot(1, (3,)), ZERO], x, rng.standard_normal(3))
        assert isinstance(same, Indexed)
        y = rng.standard_normal((2, 3))
        _, spread = frule_of(fn)([OneHot(1, (3,)), ZERO], x, y)
        assert type(spread) is not Indexed and spread.shape == (2, 3)
        column = y[:, 1] if fn is np.multiply else np.ones(2)
        np.testing.assert_allclose(spread[:, 1], column)
        np.testing.assert_array_equal(spread[:, [0, 2]], 0.0)


def test_x_times_x_along_a_one_hot_stays_sparse(rng):
    """Both partials of x·x land at the same index: their sum stays sparse too."""
    x = rng.standard_normal(4)
    (t,) = rule_tangents(lambda x: probe(x * x), x, tangents=(OneHot(2, (4,)),))
    assert isinstance(t, Indexed)
    np.testing.assert_allclose(to_dense(t), [0.0, 0.0, 2 * x[2], 0.0])


def test_partial_derivative_of_a_python_loop(rng):
    """wg.partial of an elementwise chain equals the column of the dense Jacobian."""
    x = rng.uniform(0.5, 2.0, 5)
    f = lambda x: np.log(x) * np.sin(x) / (1.0 + x ** 2) - np.sqrt(x)
    jacobian = np.diag((1 / x) * np.sin(x) / (1 + x ** 2) + np.log(x) * np.cos(x) / (1 + x ** 2)
                       - np.log(x) * np.sin(x) * 2 * x / (1 + x ** 2) ** 2 - 0.5 / np.sqrt(x))
    for i in range(5):
        np.testing.assert_allclose(wg.partial(f, x, index=i), jacobian[:, i], rtol=1e-12)


def test_forward_where_keyword(rng):
    x = rng.standard_normal((2, 3))
    y = rng.standard_normal(3)
    tx, ty = rng.standard_normal((2, 3)), rng.standard_normal(3)
    _, dy = wg.jvp(lambda x: np.exp(x, where=MASK), (x,), (tx,))
    np.testing.assert_allclose(dy, np.where(MASK, np.exp(x) * tx, 0))
    _, dy = wg.jvp(lambda x, y: np.multiply(x, y, where=MASK), (x, y), (tx, ty))
    np.testing.assert_allclose(dy, np.where(MASK, y * tx + x * ty, 0))
    _, dy = wg.jvp(lambda y: np.sin(y, where=MASK), (y,), (ty,))   # the mask is larger
    assert dy.shape == (2, 3)
    np.testing.assert_allclose(dy, np.where(MASK, np.cos(y) * ty, 0))
    np.testing.assert_array_equal(wg.partial(lambda x: np.exp(x, where=MASK), x, index=(0, 1)),
                                  np.zeros((2, 3)))
    d = wg.partial(lambda x: np.exp(x, where=MASK), x, index=(1, 2))
    assert d[1, 2] == np.exp(x[1, 2]) and np.count_nonzero(d) == 1


INDICES = [
    pytest.param((slice(None), 1), np.array([1.0, -2.0]), id="column"),
    pytest.param((1,), np.array(3.0), id="row, broadcast value"),
    pytest.param(np.array([[True, False, True], [False, True, True]]), np.arange(1.0, 5.0),
                 id="mask"),
    pytest.param((np.array([0, 0, 1]), np.array([2, 2, 0])), np.array([1.0, 2.0, 4.0]),
                 id="repeated positions"),
    pytest.param(Ellipsis, np.array(0.5), id="everything"),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("index, values", INDICES)
@pytest.mark.parametrize("f", [
    lambda x, y, r: np.exp(x),
    lambda x, y, r: x * y,
    lambda x, y, r: np.arctan2(x, r),
    lambda x, y, r: np.sqrt(np.abs(x)) - x ** 2,
    lambda x, y, r: np.maximum(x, r),
    lambda x, y, r: np.abs(x * (1 + 2j)),
    lambda x, y, r: np.clip(x, -0.5, r),
], ids=["exp", "times y", "arctan2 with a broadcast row", "chain", "maximum with a row",
        "complex abs", "clip"])
def test_indexed_tangent_of_any_index_pushes_like_its_dense_array(f, index, values, rng):
    """Sparse tangents from indexing (slices, masks, repeated positions) take the sparse
    path too; each agrees with the same tangent made dense."""
    x = np.array([[0.0, -1.5, 0.7], [2.0, 0.3, -0.4]])
    y, row = rng.standard_normal((2, 3)), rng.standard_normal(3)
    sparse = Indexed(index, values, (2, 3), np.float64)
    _, dy = wg.jvp(lambda x: f(x, y, row), (x,), (sparse,))
    _, expected = wg.jvp(lambda x: f(x, y, row), (x,), (to_dense(sparse),))
    np.testing.assert_allclose(dy, expected, rtol=1e-12)
    assert np.all(np.isfinite(dy))


def test_clip_forward_stays_sparse_and_splits_ties(rng):
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    _, dy = frule_of(np.clip)([OneHot(2, (5,)), ZERO, ZERO], x, 0.0, 1.0)
    assert isinstance(dy, Indexed)
    np.testing.assert_array_equal(to_dense(dy), [0.0, 0.0, 1.0, 0.0, 0.0])
    _, dy = wg.jvp(lambda x: np.clip(x, 0.0, 1.0), (x,), (np.ones(5),))
    np.testing.assert_array_equal(dy, [0.0, 0.5, 1.0, 0.5, 0.0])
    lo, hi = np.zeros(5), np.array([1.0, 1.0, 1.0, 1.0, -1.0])   # lo > hi: hi wins
    _, dy = wg.jvp(np.clip, (x, lo, hi), (np.ones(5), 10 * np.ones(5), 100 * np.ones(5)))
    np.testing.assert_array_equal(dy, [10.0, 5.5, 1.0, 50.5, 100.0])


# ---------------------------------------------------------------------------------------------
# Python operators
# ---------------------------------------------------------------------------------------------

C = np.array([0.7, 1.3, 2.1])      # a constant ndarray on the left of an operator
M = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])

Op = namedtuple("Op", "name f domains shapes complex_ok")


def op(name, f, *domains, shapes=None, complex_ok=True):
    return Op(name, f, domains, shapes or [(3,), (2, 3)][: len(domains)], complex_ok)


OPERATORS = [
    op("x + y", lambda x, y: x + y, REAL, REAL),
    op("x - y", lambda x, y: x - y, REAL, REAL),
    op("x * y", lambda x, y: x * y, REAL, REAL),
    op("x / y", lambda x, y: x / y, REAL, NONZERO),
    op("x ** y", lambda x, y: x ** y, POSITIVE, REAL),
    op("x % y", lambda x, y: x % y, DIVIDEND, DIVISOR, complex_ok=False),
    op("x @ y", lambda x, y: x @ y, REAL, REAL, shapes=[(2, 3), (3,)]),
    op("x @ y (matrices)", lambda x, y: x @ y, REAL, REAL, shapes=[(2, 3), (3, 2)]),
    op("-x", lambda x: -x, REAL),
    op("+x", lambda x: +x, REAL),
    op("abs(x)", lambda x: abs(x), NONZERO),
    op("2.0 + x", lambda x: 2.0 + x, REAL),
    op("2.0 - x", lambda x: 2.0 - x, REAL),
    op("2.0 * x", lambda x: 2.0 * x, REAL),
    op("2.0 / x", lambda x: 2.0 / x, NONZERO),
    op("2.0 ** x", lambda x: 2.0 ** x, REAL),
    op("5.0 % x", lambda x: 5.0 % x, DIVISOR, complex_ok=False),
    op("x ** 2", lambda x: x ** 2, REAL),
    op("x ** 3", lambda x: x ** 3, REAL),
    op("x ** 0.5", lambda x: x ** 0.5, POSITIVE),
    op("x ** -1", lambda x: x ** -1, NONZERO),
    op("x / 2 (int)", lambda x: x / 2, REAL),
    op("x - 1 (int)", lambda x: x - 1, REAL),
    op("ndarray + x", lambda x: C + x, REAL),
    op("ndarray - x", lambda x: C - x, REAL),
    op("ndarray * x", lambda x: C * x, REAL),
    op("ndarray / x", lambda x: C / x, NONZERO),
    op("ndarray ** x", lambda x: C ** x, REAL),
    op("ndarray @ x", lambda x: M @ x, REAL),
    op("x @ ndarray", lambda x: x @ M.T, REAL),
    op("x += y (rebinds)", lambda x, y: _iadd(x, y), REAL, REAL, shapes=[(2, 3), (3,)]),
    op("x *= y (rebinds)", lambda x, y: _imul(x, y), REAL, REAL, shapes=[(2, 3), (3,)]),
    op("x.T @ x", lambda x: x.T @ x, REAL, shapes=[(2, 3)]),
]


def _iadd(x, y):
    x += y
    return x


def _imul(x, y):
    x *= y
    return x


def operator_cases():
    for o in OPERATORS:
        dtypes = ["float32", "float64"] + (["complex128"] if o.complex_ok else [])
        for dtype in dtypes:
            yield pytest.param(o, dtype, id=f"{o.name}-{dtype}")


COMPLEX_FOR = {REAL: C_PLANE, NONZERO: C_PLANE, POSITIVE: C_RIGHT}


@pytest.mark.parametrize("o, dtype", list(operator_cases()))
def test_operator(o, dtype):
    rng = rng_for(o.name, dtype)
    complex_ = np.dtype(dtype).kind == "c"
    args = [make(COMPLEX_FOR[d] if complex_ else d, shape, dtype, rng)
            for d, shape in zip(o.domains, o.shapes)]
    check(o.f, *args)


@pytest.mark.parametrize("o", [o for o in OPERATORS if len(o.domains) == 1
                               and o.shapes[0] == (3,) and "@" not in o.name],
                         ids=lambda o: o.name)
def test_operator_on_python_scalar(o):
    check(o.f, make(o.domains[0], SCALAR, "float64", rng_for(o.name, "scalar")))


@pytest.mark.parametrize("o", OPERATORS, ids=lambda o: o.name)
def test_operator_value_is_numpy_value(o):
    rng = rng_for(o.name, "value")
    args = [make(d, shape, "float64", rng) for d, shape in zip(o.domains, o.shapes)]
    value, _ = wg.pullback(o.f, *args)
    assert type(value) is np.ndarray
    np.testing.assert_array_equal(value, o.f(*args))


# ---------------------------------------------------------------------------------------------
# Ufunc keywords: where= is differentiated, out= is refused
# ---------------------------------------------------------------------------------------------

MASK = np.array([[True, False, True], [False, True, True]])


def test_where_keyword_unary(rng):
    x = rng.standard_normal((2, 3))
    _, back = wg.pullback(lambda x: np.exp(x, where=MASK), x)
    (g,) = back(np.ones((2, 3)))
    np.testing.assert_allclose(g, np.where(MASK, np.exp(x), 0))


def test_where_keyword_binary_broadcast(rng):
    x = rng.standard_normal((2, 3))
    y = rng.standard_normal(3)
    _, back = wg.pullback(lambda x, y: np.multiply(x, y, where=MASK), x, y)
    gx, gy = back(np.ones((2, 3)))
    np.testing.assert_allclose(gx, np.where(MASK, y, 0))
    np.testing.assert_allclose(gy, np.sum(np.where(MASK, x, 0), axis=0))
    assert gy.shape == (3,)


def test_where_keyword_broadcasts_the_input(rng):
    """The mask is larger than the input: the input's cotangent sums over the mask's rows."""
    x = rng.standard_normal(3)
    _, back = wg.pullback(lambda x: np.sin(x, where=MASK), x)
    (g,) = back(np.ones((2, 3)))
    np.testing.assert_allclose(g, np.sum(np.where(MASK, np.cos(x), 0), axis=0))


def _exp_into(x):
    return np.exp(x, out=np.empty(3))


def _add_into(x):
    return np.add(x, 1.0, out=np.empty(3))


def _multiply_into_tuple(x):
    return np.multiply(2.0, x, out=(np.empty(3),))


def _inplace_on_ndarray(x):
    buffer = np.zeros(3)
    buffer += x          # ndarray.__iadd__ is np.add(buffer, x, out=buffer)
    return buffer


def _clip_into(x):
    return np.clip(x, 0.0, 1.0, out=np.empty(3))


@pytest.mark.parametrize("f", [_exp_into, _add_into, _multiply_into_tuple, _inplace_on_ndarray,
                               _clip_into])
def test_out_keyword_raises(f, rng):
    with pytest.raises(wg.DifferentiationError, match="out="):
        wg.gradient(lambda x: np.sum(f(x)), rng.standard_normal(3))


# ---------------------------------------------------------------------------------------------
# Non-differentiable functions: plain results, zero gradient
# ---------------------------------------------------------------------------------------------

NON_DIFFERENTIABLE_UNARY = [np.sign, np.floor, np.ceil, np.round, np.around, np.trunc, np.rint,
                            np.fix, np.isnan, np.isinf, np.isfinite, np.signbit,
                            np.logical_not]
NON_DIFFERENTIABLE_BINARY = [np.greater, np.greater_equal, np.less, np.less_equal, np.equal,
                             np.not_equal, np.logical_and, np.logical_or, np.logical_xor,
                             np.floor_divide, np.heaviside]


def _plain(value):
    assert not isinstance(value, Tracer)
    assert isinstance(value, (np.ndarray, np.generic, bool))
    return value


@pytest.mark.parametrize("fn", NON_DIFFERENTIABLE_UNARY, ids=lambda f: f.__name__)
def test_non_differentiable_unary(fn, rng):
    x = rng.uniform(-3, 3, (2, 3))
    (g,) = wg.gradient(lambda x: np.sum(_plain(fn(x)) * x), x)
    np.testing.assert_array_equal(g, fn(x).astype(float))
    (g,) = wg.gradient(lambda x: np.sum(_plain(fn(x))), x)
    np.testing.assert_array_equal(g, np.zeros_like(x))
    assert g.dtype == x.dtype


@pytest.mark.parametrize("fn", NON_DIFFERENTIABLE_BINARY, ids=lambda f: f.__name__)
def test_non_differentiable_binary(fn, rng):
    x = rng.uniform(-3, 3, (2, 3))
    y = rng.uniform(-3, 3, 3)
    gx, gy = wg.gradient(lambda x, y: np.sum(_plain(fn(x, y)) * x * y), x, y)
    np.testing.assert_allclose(gx, fn(x, y) * y)
    np.testing.assert_allclose(gy, np.sum(fn(x, y) * x, axis=0))


def test_comparisons_are_plain_booleans_so_control_flow_works():
    def f(x):
        assert type(x > 0) is np.bool_ and type(0 < x) is np.bool_
        assert type(x == x) is np.bool_
        if x > 0:
            return x ** 2
        return -x

    assert wg.gradient(f, 2.0) == (4.0,)
    assert wg.gradient(f, -1.0) == (-1.0,)


def test_comparisons_of_arrays_are_plain_boolean_arrays(rng):
    x = rng.standard_normal(4)
    c = rng.standard_normal(4)

    def f(x):
        for mask in (x > 0, x <= c, c < x, x != c, x >= x):
            assert type(mask) is np.ndarray and mask.dtype == bool
        return np.sum(np.where(x > 0, x, 0.0))

    (g,) = wg.gradient(f, x)
    np.testing.assert_array_equal(g, (x > 0).astype(float))


# ---------------------------------------------------------------------------------------------
# Second order
# ---------------------------------------------------------------------------------------------

SECOND_ORDER = ["multiply", "divide", "power", "sqrt", "cbrt", "reciprocal", "exp", "expm1",
                "log", "log1p", "logaddexp", "sin", "tan", "arcsin", "arctan", "tanh",
                "arccosh", "arctan2", "hypot", "sinc", "absolute", "maximum", "remainder"]


def second_order_cases():
    for name in SECOND_ORDER:
        for dtype in ["float64"] + (["complex128"] if BY_NAME[name].complex_domains else []):
            yield pytest.param(BY_NAME[name], dtype, id=f"{name}-{dtype}")


@pytest.mark.parametrize("s, dtype", list(second_order_cases()))
def test_second_order(s, dtype):
    rng = rng_for(s.name, dtype, "order 2")
    shapes = [(3,), (3,)][: len(s.domains)]
    args = [make(domain_for(s, i, dtype), shape, dtype, rng) for i, shape in enumerate(shapes)]
    check(s.fn, *args, order=2)   # forward mode here is forward over reverse


def check_forward_over_forward(f, *args, seed=0):
    """The JVP of ``f`` along fixed tangents, differentiated again in both modes (forward
    over forward, reverse over forward) and checked against finite differences of itself."""
    rng = rng_for("forward over forward", seed)
    directions = tuple(tangent_like(a, rng) for a in args)
    check_grads(lambda *a: wg.jvp(f, a, directions)[1], *args, modes=BOTH)


@pytest.mark.parametrize("s, dtype", list(second_order_cases()))
def test_forward_over_forward(s, dtype):
    rng = rng_for(s.name, dtype, "forward over forward")
    shapes = [(3,), (3,)][: len(s.domains)]
    args = [make(domain_for(s, i, dtype), shape, dtype, rng) for i, shape in enumerate(shapes)]
    check_forward_over_forward(s.fn, *args)


@pytest.mark.parametrize("s", [BY_NAME[n] for n in ["multiply", "power", "hypot", "arctan2"]],
                         ids=lambda s: s.name)
def test_forward_over_forward_broadcast_and_python_scalar(s):
    rng = rng_for(s.name, "forward over forward, broadcast")
    x = make(s.domains[0], (2, 3), "float64", rng)
    y = make(s.domains[1], SCALAR, "float64", rng)
    check_forward_over_forward(s.fn, x, y)
    x = make(s.domains[0], SCALAR, "float64", rng)
    y = make(s.domains[1], (2, 3), "float64", rng)
    check_forward_over_forward(s.fn, x, y)


@pytest.mark.parametrize("f", [
    lambda x: np.conj(x) * x,
    lambda x: np.abs(x) ** 3,
    lambda x: np.angle(x) * np.real(x) + np.imag(x) ** 2,
    lambda x: np.clip(x, -0.5 - 0.1j, 0.5 + 0.2j),
], ids=["conj", "abs**3", "angle, real, imag", "clip"])
def test_forward_over_forward_of_hand_written_rules(f):
    z = np.array([0.3 + 0.8j, -1.1 + 0.4j, 0.7 - 0.9j])
    check_forward_over_forward(f, z)
    check_forward_over_forward(lambda x: f(x).real, z.real)


def test_third_derivative_by_forward_mode():
    f = lambda x: np.sin(x) * np.exp(x)
    d = lambda g: (lambda x: wg.derivative(g, x))
    x = 0.7
    assert d(d(d(f)))(x) == pytest.approx(2 * np.exp(x) * (np.cos(x) - np.sin(x)))
    # ... also mixed with reverse mode
    grad = lambda g: (lambda x: wg.gradient(g, x)[0])
    assert d(grad(d(f)))(x) == pytest.approx(2 * np.exp(x) * (np.cos(x) - np.sin(x)))


def test_third_derivative_of_a_chain():
    f = lambda x: np.sin(x) * np.exp(x)
    d = lambda g: (lambda x: wg.gradient(g, x)[0])
    x = 0.7
    expected = 2 * np.exp(x) * (np.cos(x) - np.sin(x))   # (sin·exp)''' = 2eˣ(cos x − sin x)
    assert d(d(d(f)))(x) == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# The subgradient / NaN policy
# ---------------------------------------------------------------------------------------------

KINKS = [
    ("abs at 0", np.abs, 0.0, 0.0),
    ("abs() at 0", lambda x: abs(x), 0.0, 0.0),
    ("fabs at 0", np.fabs, 0.0, 0.0),
    ("complex abs at 0", np.abs, 0j, 0j),
    ("copysign at 0", lambda x: np.copysign(x, -1.0), 0.0, 0.0),
    ("hypot at the origin", lambda x: np.hypot(x, 0.0), 0.0, 0.0),
    ("arctan2 at the origin", lambda x: np.arctan2(x, 0.0), 0.0, 0.0),
    ("angle at 0", np.angle, 0j, 0j),
    ("sinc at 0", np.sinc, 0.0, 0.0),
    ("maximum(x, 0) at 0", lambda x: np.maximum(x, 0.0), 0.0, 0.5),
    ("minimum(x, 0) at 0", lambda x: np.minimum(x, 0.0), 0.0, 0.5),
    ("clip at lower bound", lambda x: np.clip(x, 0.0, 1.0), 0.0, 0.5),
    ("clip at upper bound", lambda x: np.clip(x, 0.0, 1.0), 1.0, 0.5),
    ("x ** 0 at 0", lambda x: x ** 0, 0.0, 0.0),
    ("x ** 0.0 at 0", lambda x: x ** 0.0, 0.0, 0.0),
    ("x ** 1 at 0", lambda x: x ** 1, 0.0, 1.0),
    ("x ** 2 at 0", lambda x: x ** 2, 0.0, 0.0),
]


@pytest.mark.parametrize("f, x, expected", [k[1:] for k in KINKS], ids=[k[0] for k in KINKS])
def test_kinks_get_a_finite_subgradient(f, x, expected):
    (g,) = wg.gradient(lambda x: np.real(f(x)), x)
    assert g == expected
    assert type(g) is type(x)


@pytest.mark.parametrize("fn", [np.maximum, np.minimum, np.fmax, np.fmin])
def test_ties_split_evenly(fn, rng):
    x = rng.standard_normal((2, 3))
    y = x.copy()
    y[0, 0] += 1.0      # one element without a tie
    gx, gy = wg.gradient(lambda x, y: np.sum(fn(x, y)), x, y)
    np.testing.assert_array_equal(gx + gy, np.ones_like(x))
    np.testing.assert_array_equal(gx[1], 0.5)
    np.testing.assert_array_equal(gy[1], 0.5)
    (g,) = wg.gradient(lambda x: np.sum(fn(x, x)), x)     # max(x, x) = x
    np.testing.assert_array_equal(g, np.ones_like(x))


def test_ties_split_across_broadcasting():
    x = np.array([1.0, 2.0, 3.0])
    gx, gy = wg.gradient(lambda x, y: np.sum(np.maximum(x, y)), x, 2.0)
    np.testing.assert_array_equal(gx, [0.0, 0.5, 1.0])
    assert gy == 1.5


def test_clip_gradient_matches_minimum_of_maximum(rng):
    """clip(x, lo, hi) is minimum(maximum(x, lo), hi): the same subgradients, ties included,
    also when lo > hi (numpy then returns hi everywhere)."""
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 0.0])
    lo = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.5])
    hi = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.2])
    got = wg.gradient(lambda x, lo, hi: np.sum(np.clip(x, lo, hi)), x, lo, hi)
    composed = wg.gradient(lambda x, lo, hi: np.sum(np.minimum(np.maximum(x, lo), hi)),
                           x, lo, hi)
    for g, c in zip(got, composed):
        np.testing.assert_array_equal(g, c)
    np.testing.assert_array_equal(got[2][-1], 1.0)   # lo > hi: all of it goes to hi
    np.testing.assert_array_equal(got[1][-1], 0.0)


@pytest.mark.parametrize("call", [
    lambda x: np.clip(x, -0.5, 0.5),
    lambda x: np.clip(x, -0.5, None),
    lambda x: np.clip(x, None, 0.5),
    lambda x: x.clip(-0.5, 0.5),
    lambda x: np.clip(x, a_min=-0.5, a_max=0.5),
], ids=["positional", "no upper", "no lower", "method", "keywords"])
def test_clip_forms(call):
    x = np.array([-1.3, -0.2, 0.1, 0.3, 1.1])
    check(call, x, order=2)
    check(call, x.astype(np.float32))


def test_clip_bounds_traced():
    x = np.array([-1.3, -0.2, 0.1, 0.3, 1.1])
    check(lambda x, lo, hi: np.clip(x, lo, hi), x, -0.5, np.array([0.5, 0.6, 0.7, 0.8, 0.9]))


# The branch np.where does not take leaks nothing. Each case: the function, a point where the
# branch not taken is singular (or overflows), a regular point, and the gradient at the singular
# point, which is the derivative of the branch taken there.
def branch(name, f, singular, regular, expected=0.0):
    return pytest.param(f, singular, regular, expected, id=name)


WHERE_BRANCHES = [
    branch("sqrt at 0", lambda x: np.where(x > 0, np.sqrt(x), 0.0), 0.0, 2.0),
    branch("sqrt of a negative", lambda x: np.where(x > 0, np.sqrt(x), 0.0), -1.0, 2.0),
    branch("log at 0", lambda x: np.where(x > 0, np.log(x), 0.0), 0.0, 2.0),
    branch("log2 at 0", lambda x: np.where(x > 0, np.log2(x), 0.0), 0.0, 2.0),
    branch("log10 at 0", lambda x: np.where(x > 0, np.log10(x), 0.0), 0.0, 2.0),
    branch("log1p at -1", lambda x: np.where(x > -1, np.log1p(x), 0.0), -1.0, 2.0),
    branch("x ** 0.5 at 0", lambda x: np.where(x > 0, x ** 0.5, 0.0), 0.0, 2.0),
    branch("x ** -1 at 0", lambda x: np.where(x != 0, x ** -1.0, 0.0), 0.0, 2.0),
    branch("reciprocal at 0", lambda x: np.where(x != 0, np.reciprocal(x), 0.0), 0.0, 2.0),
    branch("1 / x at 0", lambda x: np.where(x != 0, 1.0 / x, 0.0), 0.0, 2.0),
    branch("cbrt at 0", lambda x: np.where(x > 0, np.cbrt(x), 0.0), 0.0, 2.0),
    branch("arcsin at 1", lambda x: np.where(x < 1, np.arcsin(x), 0.0), 1.0, 0.5),
    branch("arccos at 1", lambda x: np.where(x < 1, np.arccos(x), 0.0), 1.0, 0.5),
    branch("arctanh at 1", lambda x: np.where(x < 1, np.arctanh(x), 0.0), 1.0, 0.5),
    branch("arccosh at 1", lambda x: np.where(x > 1, np.arccosh(x), 0.0), 1.0, 2.0),
    branch("x log x at 0", lambda x: np.where(x > 0, x * np.log(x), 0.0), 0.0, 2.0),
    branch("softplus overflow", lambda x: np.where(x > 30, x, np.log1p(np.exp(x))),
           1000.0, 2.0, expected=1.0),
    branch("cosh overflow", lambda x: np.where(x < 100, np.cosh(x), 0.0), 1000.0, 2.0),
    branch("sin(log x) at 0", lambda x: np.where(x > 0, np.sin(np.log(x)), 0.0), 0.0, 2.0),
    branch("square(log x) at 0", lambda x: np.where(x > 0, np.square(np.log(x)), 0.0), 0.0, 2.0),
    branch("exp(-1/x) at 0", lambda x: np.where(x > 0, np.exp(-1.0 / x), 0.0), 0.0, 2.0),
    branch("hypot(log x, 1) at 0", lambda x: np.where(x > 0, np.hypot(np.log(x), 1.0), 0.0),
           0.0, 2.0),
]


def _numeric_derivative(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("f, singular, regular, expected", WHERE_BRANCHES)
def test_where_branch_not_taken_leaks_nothing(f, singular, regular, expected):
    (g,) = wg.gradient(f, singular)
    assert g == expected
    x = np.array([singular, regular])
    (g,) = wg.gradient(lambda x: np.sum(f(x)), x)
    assert g[0] == expected
    assert g[1] == pytest.approx(_numeric_derivative(f, regular), rel=1e-6)
    # ... and so does the second derivative
    (h,) = wg.gradient(lambda x: np.sum(wg.gradient(lambda x: np.sum(f(x)), x)[0]), x)
    assert h[0] == 0.0
    assert np.isfinite(h[1])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("select", [lambda v, x: v[x > 0], lambda v, x: v[1:],
                                    lambda v, x: v[[2, 1, 2]]],
                         ids=["mask", "slice", "repeats"])
def test_elements_not_selected_leak_nothing(select):
    """Indexing gives the elements it did not select a zero cotangent, as np.where does."""
    x = np.array([0.0, 1.0, 2.0])
    (g,) = wg.gradient(lambda x: np.sum(select(x * np.log(x) + np.sqrt(x), x)), x)
    expected = np.zeros(3)
    np.add.at(expected, select(np.arange(3), x), (np.log(x) + 1 + 0.5 / np.sqrt(x))[
        select(np.arange(3), x)])
    np.testing.assert_allclose(g, expected)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_missing_data_masked_by_where_leaks_nothing():
    """NaN in the data, masked out: the NaN flows through the branch not taken only."""
    data = np.array([1.0, np.nan, 3.0, np.nan])
    observed = ~np.isnan(data)

    def loss(w):
        residual = w * np.arange(4.0) - data
        return np.sum(np.where(observed, np.square(residual) + np.tanh(residual) ** 2, 0.0))

    (g,) = wg.gradient(loss, 0.5)
    (g_clean,) = wg.gradient(
        lambda w: np.sum(np.square(w * np.array([0.0, 2.0]) - data[observed])
                         + np.tanh(w * np.array([0.0, 2.0]) - data[observed]) ** 2), 0.5)
    assert g == pytest.approx(g_clean)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_norm_of_zero_through_the_raw_chain_is_nan():
    """np.sqrt(np.sum(x**2)) at 0 is inf·0 in the chain rule (sqrt' is infinite, and no
    cotangent is zero to mask it): documented as NaN. Use np.linalg.norm, whose rule gives 0."""
    (g,) = wg.gradient(lambda x: np.sqrt(np.sum(x ** 2)), np.zeros(3))
    assert np.all(np.isnan(g))


def test_norm_of_zero_with_the_singular_point_in_the_branch_not_taken():
    def norm(x):
        s = np.sum(x ** 2)
        return np.where(s > 0, np.sqrt(s), 0.0)

    np.testing.assert_array_equal(wg.gradient(norm, np.zeros(3))[0], np.zeros(3))
    np.testing.assert_allclose(wg.gradient(norm, np.array([3.0, 4.0]))[0], [0.6, 0.8])


@pytest.mark.skipif(np.linalg.norm not in reverse_rules.entries, reason="no norm rule yet")
def test_norm_of_zero_is_zero():
    (g,) = wg.gradient(np.linalg.norm, np.zeros(3))
    np.testing.assert_array_equal(g, np.zeros(3))


# Forward mode: a zero tangent moves nothing, even where the derivative is infinite. Each case:
# the function, a point where its derivative is infinite, a regular point.
POLES = [
    ("sqrt", np.sqrt, 0.0, 2.0),
    ("cbrt", np.cbrt, 0.0, 2.0),
    ("log", np.log, 0.0, 2.0),
    ("log2", np.log2, 0.0, 2.0),
    ("log10", np.log10, 0.0, 2.0),
    ("log1p", np.log1p, -1.0, 2.0),
    ("reciprocal", np.reciprocal, 0.0, 2.0),
    ("1 / x", lambda x: 1.0 / x, 0.0, 2.0),
    ("x / x", lambda x: np.ones(2) / x, 0.0, 2.0),
    ("x ** 0.5", lambda x: x ** 0.5, 0.0, 2.0),
    ("x ** -1", lambda x: x ** -1.0, 0.0, 2.0),
    ("arcsin", np.arcsin, 1.0, 0.5),
    ("arccos", np.arccos, 1.0, 0.5),
    ("arctanh", np.arctanh, 1.0, 0.5),
    ("arccosh", np.arccosh, 1.0, 2.0),
    ("log(sqrt x)", lambda x: np.log(np.sqrt(x)), 0.0, 2.0),
    ("exp(-1 / x)", lambda x: np.exp(-1.0 / x), 0.0, 2.0),
]
# (sqrt(x)·log(x) at 0 is not among them: its value there is 0·(-inf) = NaN, and so is its
# tangent along a dense direction, as in reverse mode without np.where.)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("f, singular, regular", [p[1:] for p in POLES], ids=[p[0] for p in POLES])
def test_forward_zero_tangent_at_a_pole_gives_zero(f, singular, regular):
    x = np.array([singular, regular])
    slope = _numeric_derivative(lambda r: f(np.array([singular, r]))[1], regular)
    d = wg.partial(f, x, index=1)                          # sparse: the pole is never read
    assert d[0] == 0.0 and d[1] == pytest.approx(slope, rel=1e-6)
    _, d = wg.jvp(f, (x,), (np.array([0.0, 1.0]),))        # dense: the pole is read, masked
    assert d[0] == 0.0 and d[1] == pytest.approx(slope, rel=1e-6)
    d = wg.partial(lambda x: f(x + np.zeros((2, 2))), x, index=1)   # densified by broadcasting
    np.testing.assert_array_equal(d[:, 0], 0.0)
    np.testing.assert_allclose(d[:, 1], slope, rtol=1e-6)
    # ... and the second derivative along the same direction, forward over forward
    second = lambda x: wg.jvp(f, (x,), (np.array([0.0, 1.0]),))[1]
    _, dd = wg.jvp(second, (x,), (np.array([0.0, 1.0]),))
    assert dd[0] == 0.0 and np.isfinite(dd[1])
    assert dd[1] == pytest.approx(_numeric_derivative(lambda r: second(np.array([singular, r]))[1],
                                                      regular), rel=1e-5)


@pytest.mark.parametrize("f, x, expected", [k[1:] for k in KINKS], ids=[k[0] for k in KINKS])
def test_forward_kinks_get_the_same_subgradient(f, x, expected):
    d = wg.derivative(lambda x: np.real(f(x)), x)
    assert d == expected


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("f, singular, regular, expected", WHERE_BRANCHES)
def test_forward_where_branch_not_taken_leaks_nothing(f, singular, regular, expected):
    assert wg.derivative(f, singular) == expected
    x = np.array([singular, regular])
    _, d = wg.jvp(f, (x,), (np.ones(2),))
    assert d[0] == expected
    assert d[1] == pytest.approx(_numeric_derivative(f, regular), rel=1e-6)
    assert wg.partial(f, x, index=0)[0] == expected
    assert wg.partial(f, x, index=1)[0] == 0.0


# ---------------------------------------------------------------------------------------------
# The complex convention: the gradient of real L(z) is ∂L/∂Re z + i ∂L/∂Im z
# ---------------------------------------------------------------------------------------------

Z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.0j])


@pytest.mark.parametrize("f", [
    lambda z: np.abs(z) ** 2,
    lambda z: np.real(z * np.conj(z)),
    lambda z: (z * z.conj()).real,
    lambda z: np.real(z) ** 2 + np.imag(z) ** 2,
], ids=["abs**2", "real(z conj z)", "methods", "re**2 + im**2"])
def test_gradient_of_squared_modulus_is_2z(f):
    (g,) = wg.gradient(lambda z: np.sum(f(z)), Z)
    np.testing.assert_allclose(g, 2 * Z)
    (g,) = wg.gradient(f, 1.0 + 2.0j)
    assert type(g) is complex
    assert g == pytest.approx(2.0 + 4.0j)


def test_gradient_of_real_part_is_1_and_of_imaginary_part_is_i():
    (g,) = wg.gradient(lambda z: np.sum(np.real(z)), Z)
    np.testing.assert_array_equal(g, np.ones(3, complex))
    (g,) = wg.gradient(lambda z: np.sum(z.imag), Z)
    np.testing.assert_array_equal(g, 1j * np.ones(3))
    assert g.dtype == np.complex128


def test_gradient_of_modulus_is_z_over_modulus():
    (g,) = wg.gradient(lambda z: np.sum(np.abs(z)), Z)
    np.testing.assert_allclose(g, Z / np.abs(Z))


def test_gradient_of_angle():
    (g,) = wg.gradient(lambda z: np.sum(np.angle(z)), Z)
    np.testing.assert_allclose(g, 1j * Z / np.abs(Z) ** 2)
    (g,) = wg.gradient(lambda z: np.sum(np.angle(z, deg=True)), Z)
    np.testing.assert_allclose(g, 180 / np.pi * 1j * Z / np.abs(Z) ** 2)


def test_gradient_of_real_input_through_angle_and_imag_is_zero():
    x = np.array([1.0, -2.0])
    (g,) = wg.gradient(lambda x: np.sum(np.angle(x) + np.imag(x)), x)
    np.testing.assert_array_equal(g, np.zeros(2))


def test_gradient_step_descends():
    target = np.array([0.3 - 1.0j, 2.0 + 0.5j, -1.0 + 0.0j])
    loss = lambda z: np.sum(np.abs(z - target) ** 2)
    (g,) = wg.gradient(loss, Z)
    assert loss(Z - 0.1 * g) < loss(Z)


HOLOMORPHIC = [
    ("sin·exp", lambda z: np.sin(z) * np.exp(z), lambda z: np.exp(z) * (np.cos(z) + np.sin(z))),
    ("1/(1+z²)", lambda z: 1 / (1 + z ** 2), lambda z: -2 * z / (1 + z ** 2) ** 2),
    ("log(z)·sqrt(z)", lambda z: np.log(z) * np.sqrt(z),
     lambda z: np.sqrt(z) / z + np.log(z) / (2 * np.sqrt(z))),
    ("tanh(z³)", lambda z: np.tanh(z ** 3), lambda z: 3 * z ** 2 / np.cosh(z ** 3) ** 2),
]


@pytest.mark.parametrize("f, df", [h[1:] for h in HOLOMORPHIC], ids=[h[0] for h in HOLOMORPHIC])
def test_holomorphic_pullback_is_cotangent_times_conjugate_derivative(f, df):
    z = np.array([0.6 + 0.2j, 1.1 - 0.4j, 0.8 + 0.7j])
    ct = np.array([1.0 - 0.5j, 0.3 + 2.0j, -1.0 + 0.1j])
    y, back = wg.pullback(f, z)
    np.testing.assert_allclose(y, f(z))
    (g,) = back(ct)
    np.testing.assert_allclose(g, ct * np.conj(df(z)), rtol=1e-12)
    check(lambda z: np.abs(f(z)) ** 2, z)          # a real loss, against finite differences
    check(f, z, order=2)


@pytest.mark.parametrize("f, df", [h[1:] for h in HOLOMORPHIC], ids=[h[0] for h in HOLOMORPHIC])
def test_holomorphic_jvp_is_derivative_times_tangent(f, df):
    z = np.array([0.6 + 0.2j, 1.1 - 0.4j, 0.8 + 0.7j])
    dz = np.array([1.0 - 0.5j, 0.3 + 2.0j, -1.0 + 0.1j])
    y, dy = wg.jvp(f, (z,), (dz,))
    np.testing.assert_allclose(y, f(z))
    np.testing.assert_allclose(dy, df(z) * dz, rtol=1e-12)
    assert wg.derivative(f, 0.6 + 0.2j) == pytest.approx(df(0.6 + 0.2j), rel=1e-12)
    d = wg.partial(f, z, index=1)           # along a OneHot: one column of the Jacobian
    np.testing.assert_allclose(d, [0.0, df(z)[1], 0.0], rtol=1e-12)


# Functions of z that are not holomorphic, with their JVP at z along dz.
NOT_HOLOMORPHIC = [
    ("conj", np.conj, lambda z, dz: np.conj(dz)),
    ("real", np.real, lambda z, dz: dz.real),
    ("imag", np.imag, lambda z, dz: dz.imag),
    ("abs", np.abs, lambda z, dz: np.real(np.conj(z) * dz) / np.abs(z)),
    ("abs**2", lambda z: np.abs(z) ** 2, lambda z, dz: 2 * np.real(np.conj(z) * dz)),
    ("angle", np.angle, lambda z, dz: np.imag(np.conj(z) * dz) / np.abs(z) ** 2),
    ("angle(deg=True)", lambda z: np.angle(z, deg=True),
     lambda z, dz: 180 / np.pi * np.imag(np.conj(z) * dz) / np.abs(z) ** 2),
    ("z conj z", lambda z: z * np.conj(z), lambda z, dz: 2 * np.real(np.conj(z) * dz) + 0j),
    ("conj(z)² exp(z)", lambda z: np.conj(z) ** 2 * np.exp(z),
     lambda z, dz: 2 * np.conj(z * dz) * np.exp(z) + np.conj(z) ** 2 * np.exp(z) * dz),
    ("re·im", lambda z: np.real(z) * np.imag(z),
     lambda z, dz: dz.real * z.imag + z.real * dz.imag),
    ("|sin z| / |z|", lambda z: np.abs(np.sin(z)) / np.abs(z),
     lambda z, dz: (np.real(np.conj(np.sin(z)) * np.cos(z) * dz) / np.abs(np.sin(z))
                    - np.abs(np.sin(z)) * np.real(np.conj(z) * dz) / np.abs(z) ** 2)
     / np.abs(z)),
]


@pytest.mark.parametrize("f, jvp", [h[1:] for h in NOT_HOLOMORPHIC],
                         ids=[h[0] for h in NOT_HOLOMORPHIC])
def test_jvp_of_a_function_that_is_not_holomorphic(f, jvp):
    """The plain chain rule on (Re z, Im z): a real function of z has a real tangent."""
    z = np.array([0.6 + 0.2j, -1.1 - 0.4j, 0.8 + 0.7j])
    for dz in (np.array([1.0 - 0.5j, 0.3 + 2.0j, -1.0 + 0.1j]), np.ones(3, complex),
               1j * np.ones(3)):
        y, dy = wg.jvp(f, (z,), (dz,))
        np.testing.assert_allclose(dy, jvp(z, dz), rtol=1e-12, atol=1e-15)
        assert np.iscomplexobj(dy) == np.iscomplexobj(y)
        h = 1e-6
        np.testing.assert_allclose(dy, (f(z + h * dz) - f(z - h * dz)) / (2 * h), rtol=1e-6)
    unit = Indexed((1,), np.array(1j), (3,), np.complex128)   # along i at z[1] only
    d = wg.jvp(f, (z,), (unit,))[1]
    expected = np.zeros(3, np.result_type(y))
    expected[1] = jvp(z, 1j * np.ones(3))[1]
    np.testing.assert_allclose(d, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_real_input_through_complex_intermediates_gets_a_real_tangent(dtype):
    x = np.array([0.3, -1.2, 2.0], dtype)
    f = lambda x: np.abs(np.exp(1j * x) * (2 + x)) ** 2 + np.real(np.exp(1j * x))
    y, dy = wg.jvp(f, (x,), (np.ones(3, dtype),))
    assert dy.dtype == y.dtype == x.dtype
    np.testing.assert_allclose(dy, 2 * (2 + x) - np.sin(x), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_real_input_through_complex_intermediates_gets_a_real_gradient(dtype):
    x = np.array([0.3, -1.2, 2.0], dtype)
    f = lambda x: np.sum(np.abs(np.exp(1j * x) * (2 + x)) ** 2 + np.real(np.exp(1j * x)))
    (g,) = wg.gradient(f, x)
    assert g.dtype == x.dtype
    check(f, x)
    (g,) = wg.gradient(f, 0.3)
    assert type(g) is float


# ---------------------------------------------------------------------------------------------
# Other conventions of docs/conventions.md, as elementwise code meets them
# ---------------------------------------------------------------------------------------------

def test_non_float_arguments_get_none():
    grads = wg.gradient(lambda x, n, flag, nothing: x ** n if flag else x, 2.0, 3, True, None)
    assert grads == (12.0, None, None, None)
    x = np.arange(3)     # an integer array has no tangent either: as data it is closed over
    assert wg.gradient(lambda y: np.sum(x * y), 2.0) == (3.0,)
    with pytest.raises(wg.DifferentiationError, match="dtype int64"):   # not differentiated
        wg.gradient(lambda x, y: np.sum(x * y), x, 2.0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_unused_input_gets_zeros(dtype):
    x = np.ones(3, dtype)
    y = np.ones((2, 2), dtype)
    gx, gy = wg.gradient(lambda x, y: np.sum(np.real(np.sin(x))), x, y)
    np.testing.assert_array_equal(gy, np.zeros((2, 2)))
    assert gy.dtype == y.dtype and gx.dtype == x.dtype
    assert wg.gradient(lambda x, y: x * 2.0, 1.0, 5.0) == (2.0, 0.0)


def test_float32_stays_float32_with_python_scalars_and_constants():
    x = np.array([0.5, 1.0], np.float32)
    (g,) = wg.gradient(lambda x: np.sum(np.exp2(x) * 3.0 + np.log10(x)), x)
    assert g.dtype == np.float32
    assert rule_cotangents(lambda x: np.exp2(x) * 3.0 + np.log10(x), x)[0].dtype == np.float32


def test_a_traced_argument_without_a_declared_derivative_is_an_error_not_zero():
    from wengert.rules._helpers import elementwise

    @wg.primitive
    def scaled(x, k):
        return x * 2.0 ** k

    elementwise(scaled, lambda x, k, out: 2.0 ** k, None)   # no derivative in k, on purpose
    x, k = np.array([1.0, 3.0]), np.array([2.0, 1.0])
    (gx,) = wg.gradient(lambda x: np.sum(scaled(x, k)), x)
    np.testing.assert_allclose(gx, 2.0 ** k)
    for transform in (lambda f: wg.gradient(f, k), lambda f: wg.jvp(f, (k,), (np.ones(2),))):
        with pytest.raises(wg.DifferentiationError, match="no derivative with respect to its "
                                                          "argument 1"):
            transform(lambda k: np.sum(scaled(x, k)))
