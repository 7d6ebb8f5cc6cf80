"""The library's own spec tables (every ufunc rule, the linear-algebra cases) through
wg.compile: gradient and jvp of each, compiled, equal the uncompiled ones — on the traced
arguments and on new ones, which run the emitted program only."""
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import wengert as wg

RULES = pathlib.Path(__file__).resolve().parents[1] / "rules"


def _load(name):
    if str(RULES) not in sys.path:
        sys.path.insert(0, str(RULES))   # the tables import their helpers by plain name
    spec = importlib.util.spec_from_file_location(f"compile_corpus_{name}", RULES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


UFUNCS = _load("test_ufuncs")
LINALG = _load("linalg_inputs")
LINALG_CASES = _load("test_linalg").CASES


def _scalar_of(out):
    leaves = out if isinstance(out, tuple) else (out,)
    return sum(np.sum(np.sin(np.real(leaf))) for leaf in leaves)


def _same(a, b):
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        assert np.result_type(u) == np.result_type(v)
        tight = np.result_type(v) == np.float64
        np.testing.assert_allclose(u, v, rtol=1e-10 if tight else 1e-5, atol=1e-12)


def _compiled_agrees(f, make_args):
    """grad and jvp of ``f`` compiled, against uncompiled, on two sets of arguments."""
    def gradient(*args):
        return wg.gradient(f, *args)

    def pushed(*args):
        return wg.jvp(f, args, tuple(np.ones_like(a) for a in args))[1]

    for transform in (gradient, pushed):
        compiled = wg.compile(transform)
        for salt in (0, 1):
            args = make_args(salt)
            _same(compiled(*args), transform(*args))


@pytest.mark.parametrize("spec", UFUNCS.SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,))], ids=["same", "broadcast"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ufunc_rules_compiled(spec, shapes, dtype):
    def make_args(salt):
        rng = np.random.default_rng(salt)
        return [domain(rng, shape).astype(dtype) for domain, shape in zip(spec.domains, shapes)]

    _compiled_agrees(lambda *xs: np.sum(np.sin(spec.fn(*xs))), make_args)


@pytest.mark.parametrize("case", [c for c in LINALG_CASES if c.batched],
                         ids=lambda c: c.name)
def test_linalg_rules_compiled(case):
    def make_args(salt):
        return LINALG.arguments(case, (3, 3), np.float64, str(salt))

    _compiled_agrees(lambda *xs: _scalar_of(case.fn(*xs)), make_args)


@pytest.mark.parametrize("spec", [s for s in UFUNCS.SPECS if s.complex_domains],
                         ids=lambda s: s.name)
def test_ufunc_rules_compiled_complex(spec):
    def make_args(salt):
        rng = np.random.default_rng(salt)
        return [domain(rng, (3,)) for domain in spec.complex_domains]

    _compiled_agrees(lambda *zs: np.sum(np.abs(np.sin(spec.fn(*zs))) ** 2), make_args)


INDEXING = _load("test_indexing")
REDUCTIONS = _load("test_reductions")


@pytest.mark.parametrize("name, fn, shape, order", INDEXING.INDEXING,
                         ids=[p[0] for p in INDEXING.INDEXING])
def test_indexing_rules_compiled(name, fn, shape, order):
    def make_args(salt):
        rng = np.random.default_rng(salt)
        return [rng.uniform(-1.5, 1.5, shape)]

    _compiled_agrees(lambda x: np.sum(np.sin(fn(x))), make_args)


@pytest.mark.parametrize("name", list(REDUCTIONS.REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 0, (0, 2)], ids=["all", "0", "(0,2)"])
def test_reduction_rules_compiled(name, axis):
    fn, make, _, kwargs = REDUCTIONS.REDUCTIONS[name]

    def make_args(salt):
        return [make((2, 3, 4), np.float64, np.random.default_rng(salt))]

    _compiled_agrees(lambda x: np.sum(np.sin(fn(x, axis=axis, **kwargs))), make_args)
