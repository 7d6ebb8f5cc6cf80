"""Inputs and checks shared by the np.linalg tests (test_linalg, test_decompositions,
test_norms): argument makers ``(shape, dtype, rng) -> array`` built to be well conditioned,
the spec-table case type, and checks that tie forward mode to finite differences and to
reverse mode.
"""
import dataclasses
import zlib

import numpy as np
import pytest

import wengert as wg
from wengert.tree import flatten, unflatten

BOTH = ("reverse", "forward")
SHAPES = {"2x2": (2, 2), "3x3": (3, 3), "4x4": (4, 4), "batched": (2, 3, 3)}
ALL = (np.float64, np.float32, np.complex128)


# --- argument makers --------------------------------------------------------------------------

def random(shape, dtype, rng):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def general(shape, dtype, rng):
    """Random plus n·I: comfortably invertible."""
    n = shape[-1]
    return (random(shape, dtype, rng) + n * np.eye(n)).astype(dtype)


def spd(shape, dtype, rng):
    n = shape[-1]
    x = random(shape, dtype, rng)
    return (x @ adjoint(x) / n + np.eye(n)).astype(dtype)


def unitary(shape, dtype, rng):
    q, r = np.linalg.qr(random(shape, dtype, rng))
    return q


def separated(shape, dtype, rng):
    """Hermitian with eigenvalues 1, 2.5, 4, ... (well separated)."""
    q = unitary(shape, dtype, rng)
    eigenvalues = 1 + 1.5 * np.arange(shape[-1])
    return ((q * eigenvalues) @ adjoint(q)).astype(dtype)


def distinct_singular(shape, dtype, rng):
    """U diag(s) Vᴴ with singular values 1, 2, 3, ... (any m x n)."""
    m, n = shape[-2:]
    k = min(m, n)
    u = unitary(shape[:-2] + (m, k), dtype, rng)
    v = unitary(shape[:-2] + (n, k), dtype, rng)
    return ((u * (1.0 + np.arange(k))) @ adjoint(v)).astype(dtype)


def tall(maker, rows=1):
    """The same maker for a matrix with ``rows`` more rows than columns."""
    return lambda shape, dtype, rng: maker(shape[:-2] + (shape[-2] + rows, shape[-1]), dtype, rng)


def wide(maker, cols=1):
    return lambda shape, dtype, rng: maker(shape[:-2] + (shape[-2], shape[-1] + cols), dtype, rng)


def vector_rhs(shape, dtype, rng):
    return random(shape[-1:], dtype, rng)


def column_rhs(shape, dtype, rng):
    """A vector with one entry per row."""
    return random(shape[-2:-1], dtype, rng)


def batched_vector_rhs(shape, dtype, rng):
    return random(shape[:-1], dtype, rng)


def matrix_rhs(shape, dtype, rng):
    return random(shape[:-1] + (2,), dtype, rng)


def adjoint(a):
    return np.conj(np.swapaxes(a, -1, -2))


def hermitian(a):
    return (a + adjoint(a)) / 2


def weighted_abs2(x):
    """A gauge-invariant, phase-blind function of singular/eigen vectors: |x|² weighted."""
    weights = np.arange(1, x.shape[-1] + 1)
    return np.real(x * np.conj(x)) * weights


# --- the spec tables --------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    name: str
    fn: object
    makers: tuple
    dtypes: tuple = ALL
    order: int = 1
    batched: bool = True


def params(cases):
    return [
        pytest.param(case, shape, dtype, id=f"{case.name}-{shape_name}-{np.dtype(dtype).name}")
        for case in cases
        for shape_name, shape in SHAPES.items()
        if case.batched or len(shape) == 2
        for dtype in case.dtypes
    ]


def second_order(params):
    """The cases of order 2, in float64 and complex128 (float32 is too coarse for them)."""
    return [p for p in params if p.values[0].order == 2 and p.values[2] != np.float32]


def arguments(case, shape, dtype, salt=""):
    rng = np.random.default_rng(zlib.crc32(f"{case.name}{shape}{salt}".encode()))
    return [make(shape, dtype, rng) for make in case.makers]


def spec_table_tests(cases):
    """The three tests every linear-algebra spec table runs: first derivatives in both modes,
    second order (reverse over reverse, forward over reverse), and forward over forward.
    A test module binds them to module-level names so that pytest collects them."""
    table = params(cases)

    @pytest.mark.parametrize("case,shape,dtype", table)
    def test_derivatives(case, shape, dtype):
        wg.testing.check_grads(case.fn, *arguments(case, shape, dtype), modes=BOTH)

    @pytest.mark.parametrize("case,shape,dtype", second_order(table))
    def test_second_order(case, shape, dtype):
        args = arguments(case, shape, dtype, "2")
        wg.testing.check_grads(case.fn, *args, modes=BOTH, order=2, atol=1e-4, rtol=1e-4)

    @pytest.mark.parametrize("case,shape,dtype", second_order(table))
    def test_forward_over_forward(case, shape, dtype):
        check_forward_over_forward(case.fn, *arguments(case, shape, dtype, "ff"))

    return table, test_derivatives, test_second_order, test_forward_over_forward


# --- checks between the modes -----------------------------------------------------------------

def pairing(a, b):
    """Re⟨a, b⟩ summed over the leaves of two output structures."""
    return sum(float(np.real(np.vdot(np.asarray(x), np.asarray(y))))
               for x, y in zip(flatten(a)[0], flatten(b)[0]))


def random_like(x, rng):
    return random(np.shape(x), np.asarray(x).dtype, rng)


def assert_adjoint(f, a, rng, tangent=None):
    """⟨ct, J t⟩ (forward mode) equals ⟨Jᴴ ct, t⟩ (reverse mode) for a random cotangent of
    every output leaf: the two modes differentiate the same map."""
    t = random_like(a, rng) if tangent is None else tangent
    y, dy = wg.jvp(f, (a,), (t,))
    leaves, treedef = flatten(y)
    ct = [random_like(leaf, rng) for leaf in leaves]
    _, back = wg.pullback(f, a)
    (g,) = back(unflatten(treedef, ct))
    forward = pairing(ct, flatten(dy)[0])
    reverse = pairing(g, t)
    scale = np.linalg.norm(g) * np.linalg.norm(t) + sum(
        np.linalg.norm(c) * np.linalg.norm(d) for c, d in zip(ct, flatten(dy)[0]))
    assert abs(forward - reverse) <= 1e-10 * scale, (forward, reverse)


def check_forward_over_forward(f, *args, seed=0, rtol=2e-5, atol=2e-5):
    """The second directional derivative by forward over forward mode, against central
    differences of the first (forward-mode) one."""
    rng = np.random.default_rng(seed)
    ts = tuple(random_like(a, rng) for a in args)

    def first(*a):
        return wg.jvp(f, a, ts)[1]

    _, second = wg.jvp(first, args, ts)
    h = 1e-5
    plus = first(*(a + h * t for a, t in zip(args, ts)))
    minus = first(*(a - h * t for a, t in zip(args, ts)))
    for s, p, m in zip(flatten(second)[0], flatten(plus)[0], flatten(minus)[0]):
        np.testing.assert_allclose(s, (p - m) / (2 * h), rtol=rtol, atol=atol)
