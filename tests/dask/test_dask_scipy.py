"""SciPy's functions of Dask arrays: differentiated lazily, or refused with the way out.

SciPy converts its arguments with ``np.asarray``, which computes a Dask array. A derivative
with respect to a Dask array computes nothing: each function either stays lazy (its rule
computes with NumPy functions Dask implements) or raises a DifferentiationError naming it,
in both modes, however the program computes otherwise."""
import threading

import numpy as np
import pytest

import wengert as wg
from _check import check_dask, da

dask = pytest.importorskip("dask")
sl = pytest.importorskip("scipy.linalg")
sp = pytest.importorskip("scipy.special")
st = pytest.importorskip("scipy.stats")
ss = pytest.importorskip("scipy.signal")
sf = pytest.importorskip("scipy.fft")

from wengert.arraytypes import ConversionRefused, record_of   # noqa: E402


class Computed(Exception):
    pass


def _no_computing(*args, **kwargs):
    raise Computed("a Dask array was computed")


MATRIX = np.eye(3) * 2 + 0.1 * np.arange(9.0).reshape(3, 3)
SPD = MATRIX @ MATRIX.T
VECTOR = np.linspace(-0.8, 1.0, 6)


def both_modes_lazily(f, x, chunks=2, on_numpy=None):
    """The gradient and a jvp of ``f`` at ``x`` as a Dask array, taken while any computing
    raises; then computed, and compared with those of ``f`` (or ``on_numpy``) at NumPy's."""
    on_numpy = on_numpy or f
    lazy = da.from_array(x, chunks=chunks)
    direction = np.cos(np.arange(x.size)).reshape(x.shape)
    with dask.config.set(scheduler=_no_computing):
        grad = wg.gradient(f, lazy)[0]
        tangent = wg.jvp(f, (lazy,), (da.from_array(direction, chunks=chunks),))[1]
    assert isinstance(grad, da.Array) and isinstance(tangent, da.Array)
    np.testing.assert_allclose(grad.compute(), wg.gradient(on_numpy, x)[0], rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(tangent.compute(), wg.jvp(on_numpy, (x,), (direction,))[1],
                               rtol=1e-10, atol=1e-12)


LAZY = {
    "scipy.special.logsumexp": (lambda x: sp.logsumexp(x), VECTOR),
    "scipy.special.logsumexp axis": (lambda x: np.sum(sp.logsumexp(x, axis=1) ** 2),
                                     MATRIX),
    "scipy.special.softmax": (lambda x: np.sum(sp.softmax(x, axis=0) * VECTOR), VECTOR),
    "scipy.special.log_softmax": (lambda x: np.sum(sp.log_softmax(x) ** 2), VECTOR),
    "scipy.special.expit": (lambda x: np.sum(sp.expit(x) ** 2), VECTOR),
    "scipy.special.gammaln": (lambda x: np.sum(sp.gammaln(x + 2.0)), VECTOR),
    "scipy.stats.norm.logpdf": (lambda x: np.sum(st.norm.logpdf(x, 0.5, 2.0)), VECTOR),
    "scipy.stats.gamma.logpdf": (lambda x: np.sum(st.gamma.logpdf(x + 1.0, 2.0)), VECTOR),
    "scipy.stats.multivariate_normal.logpdf": (
        lambda x: st.multivariate_normal.logpdf(x[:3], np.zeros(3), SPD), VECTOR),
    "np.linalg.solve with a NumPy matrix": (
        lambda x: np.sum(np.linalg.solve(SPD, x[:3]) ** 2), VECTOR),
    "scipy.linalg.block_diag": (lambda a: np.sum(sl.block_diag(a, a) ** 2), MATRIX),
    "scipy.linalg.toeplitz": (lambda c: np.sum(sl.toeplitz(c, c[::-1] * 2) ** 2),
                              VECTOR),
}


@pytest.mark.parametrize("name", LAZY)
def test_lazy_in_both_modes_and_equal_to_numpys(name):
    f, x = LAZY[name]
    both_modes_lazily(f, x)


def test_softmax_against_finite_differences():
    x = da.from_array(MATRIX, chunks=2)
    check_dask(lambda x: sp.softmax(x, axis=1) * MATRIX, x)
    check_dask(lambda x: sp.logsumexp(x, axis=0), x)


ones = np.ones(3)
REFUSED = {
    "scipy.linalg.solve": (lambda a: np.sum(sl.solve(a, ones)), MATRIX,
                           "dask.array.linalg.solve"),
    "scipy.linalg.cho_factor": (lambda a: np.sum(sl.cho_solve(sl.cho_factor(a), ones)), SPD,
                                "dask.array.linalg.cholesky"),
    "scipy.linalg.cholesky": (lambda a: np.sum(sl.cholesky(a)), SPD,
                              "dask.array.linalg.cholesky"),
    "scipy.linalg.inv": (lambda a: np.sum(sl.inv(a)), MATRIX, "dask.array.linalg.inv"),
    "scipy.linalg.expm": (lambda a: np.sum(sl.expm(a / 5)), MATRIX, r"x\.compute\(\)"),
    "scipy.linalg.det": (lambda a: sl.det(a), MATRIX, r"x\.compute\(\)"),
    "scipy.linalg.lu_factor": (lambda a: np.sum(sl.lu_solve(sl.lu_factor(a), ones)), MATRIX,
                               "dask.array.linalg.solve"),
    "scipy.special.polygamma": (lambda x: np.sum(sp.polygamma(1, x + 2.0)), VECTOR,
                                r"x\.compute\(\)"),
    "scipy.signal.convolve": (lambda x: np.sum(ss.convolve(x, ones) ** 2), VECTOR,
                              r"x\.compute\(\)"),
    "scipy.signal.lfilter": (lambda x: np.sum(ss.lfilter([1.0, 0.5], [1.0, -0.2], x) ** 2),
                             VECTOR, r"x\.compute\(\)"),
    "scipy.fft.fft": (lambda x: np.sum(np.abs(sf.fft(x)) ** 2), VECTOR, r"np\.fft\.fft"),
    "scipy.fft.dct": (lambda x: np.sum(sf.dct(x) ** 2), VECTOR, r"x\.compute\(\)"),
}


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("name", REFUSED)
def test_refused_naming_the_function_and_the_way_out(name, mode):
    f, x, way_out = REFUSED[name]
    lazy = da.from_array(x, chunks=2)
    message = f"{name}.*would compute the Dask array.*{way_out}"
    # Refused whatever the scheduler: nothing is computed, with or without one that raises.
    for scheduler in (None, _no_computing):
        with dask.config.set(scheduler=scheduler), pytest.raises(
                wg.DifferentiationError, match=message):
            if mode == "reverse":
                wg.gradient(f, lazy)
            else:
                wg.jvp(f, (lazy,), (da.ones_like(lazy),))


def test_the_way_out_differentiates_lazily():
    # What the messages propose: Dask's own solver, and np.fft (one chunk along the axis).
    both_modes_lazily(lambda a: np.sum(da.linalg.solve(a, da.ones(3)) ** 2), MATRIX,
                      chunks=-1, on_numpy=lambda a: np.sum(np.linalg.solve(a, ones) ** 2))
    both_modes_lazily(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2), VECTOR, chunks=-1)
    f, x, _ = REFUSED["scipy.linalg.solve"]   # or compute the array: NumPy's derivative
    np.testing.assert_allclose(wg.gradient(f, da.from_array(x).compute())[0],
                               wg.gradient(f, x)[0])


def test_the_same_calls_on_numpy_arrays_are_left_alone():
    for name, (f, x, _) in REFUSED.items():
        assert isinstance(wg.gradient(f, x)[0], np.ndarray), name


# --- the pullback walk --------------------------------------------------------------------------

def test_a_pullback_that_would_compute_is_refused_in_the_walk():
    # A rule whose forward pass stays lazy and whose pullback converts the cotangent: the
    # walk of a level that gave the rule a Dask array refuses it, naming the function.
    from types import SimpleNamespace

    from wengert.rules._reach import reach

    def twice(x):
        return 2 * x

    library = SimpleNamespace(__name__="library", twice=twice)
    original = reach(library, "twice")

    @wg.rrule(original)
    def twice_rule(x):
        return 2 * x, lambda ct: (2 * np.asarray(ct),)

    @wg.frule(original)
    def twice_forward(dx, x):
        return 2 * x, 2 * dx

    x = da.from_array(VECTOR, chunks=2)
    with pytest.raises(wg.DifferentiationError, match=r"twice's pullback would compute"):
        wg.gradient(lambda x: np.sum(library.twice(x)), x)
    assert isinstance(wg.gradient(lambda x: np.sum(library.twice(x)), VECTOR)[0], np.ndarray)


# --- the refusal itself ------------------------------------------------------------------------

def test_other_threads_compute_while_one_refuses_and_the_scheduler_comes_back():
    refusing = record_of(da.ones(1)).refusing_conversion
    before = dask.config.get("scheduler", None)
    results = []
    with refusing():
        with refusing():   # nested: still refusing after the inner one ends
            pass
        with pytest.raises(ConversionRefused):
            da.ones(3).sum().compute()
        worker = threading.Thread(target=lambda: results.append(da.ones(3).sum().compute()))
        worker.start()
        worker.join()
    assert results == [3.0]
    assert dask.config.get("scheduler", None) == before
    assert da.ones(3).sum().compute() == 3.0
