"""Checks of the benchmark machinery itself (not collected by the main suite):

    python3 -m pytest benchmarks/test_benchmarks.py -q

The hand-written gradients are the reference every contender is judged by, so each is
checked here against a central finite difference along a random direction; the harness
must exclude a wrong gradient, report a failing contender and carry on.
"""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "src"))

from benchmarks import report  # noqa: E402
from benchmarks.harness import (Case, Contender, Options, Prepared, as_float64_tuple,  # noqa: E402
                                compare, run_case)
from benchmarks.run import main  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

FAST = Options(repeats=2, min_sample_s=0.0, budget_s=1.0, quick=True)


def directional_difference(f, params, directions, h=1e-6):
    plus = f(*(p + h * d for p, d in zip(params, directions)))
    minus = f(*(p - h * d for p, d in zip(params, directions)))
    return (plus - minus) / (2 * h)


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_hand_written_gradient_matches_finite_differences(name):
    workload = WORKLOADS[name]
    case = workload.cases(quick=True)[0]
    rng = np.random.default_rng(0)
    directions = [rng.standard_normal(np.shape(p)) for p in case.params]
    grads = workload.gradient_by_hand(case.data, *case.params)
    assert [np.shape(g) for g in grads] == [np.shape(p) for p in case.params]
    predicted = sum(np.sum(g * d) for g, d in zip(grads, directions))
    measured = directional_difference(lambda *p: workload.loss(np, case.data, *p),
                                      case.params, directions)
    assert np.isclose(predicted, measured, rtol=1e-5, atol=1e-9 * max(1.0, abs(measured)))


def test_gp_scipy_baseline_agrees_with_numpy_baseline():
    pytest.importorskip("scipy")
    gp = WORKLOADS["gp"]
    case = gp.cases(quick=True)[0]
    ok, _ = compare(as_float64_tuple(gp.gradient_by_hand_scipy(case.data, *case.params)),
                    as_float64_tuple(gp.gradient_by_hand(case.data, *case.params)))
    assert ok


def test_compare_tolerates_rounding_and_catches_errors():
    want = (np.array([1e-6, 2e-6]),)
    assert compare((want[0] * (1 + 1e-9),), want)[0]
    assert not compare((want[0] * 1.01,), want)[0]
    assert not compare((np.zeros(3),), want)[0]              # wrong shape
    assert not compare((want[0], want[0]), want)[0]          # wrong count


def _constant(name, value, fail=False):
    def build(case):
        def run():
            if fail:
                raise RuntimeError("boom")
            return (np.asarray(value),)
        return Prepared(run, as_float64_tuple)
    return Contender(name, build)


def test_run_case_excludes_mismatch_reports_failure_and_times_the_rest():
    case = Case("tiny", {}, (np.zeros(2),))
    contenders = [_constant("base", [1.0, 2.0]), _constant("good", [1.0, 2.0]),
                  _constant("wrong", [1.0, 3.0]), _constant("broken", [0.0], fail=True)]
    base, good, wrong, broken = run_case(case, contenders, FAST)
    assert base.status == good.status == "ok" and len(good.samples) == FAST.repeats
    assert wrong.status == "mismatch" and not wrong.samples
    assert broken.status == "failed" and "boom" in broken.note
    table = report.markdown_table(WORKLOADS["mlp"], [(case, [base, good, wrong, broken])])
    assert "EXCLUDED" in table and "FAILED" in table


def test_quick_run_of_wengert_agrees_everywhere(capsys):
    status = main(["--quick", "--strict", "--no-json", "--repeats", "1", "--budget", "0.5",
                   "--min-sample", "0"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.count("### ") == len(WORKLOADS)


# --- partial and hvp: their references and the checks of their gradient rows -----------------

def test_partial_baselines_are_component_i_of_the_analytic_gradient():
    partial = WORKLOADS["partial"]
    case = partial.cases(quick=True)[0]
    i = case.data["index"]
    want = partial.gradient_by_hand(case.data, *case.params)[0][i]
    assert want != 0
    assert np.isclose(partial.partial_by_hand(case.data, *case.params), want, rtol=1e-12)
    assert np.isclose(partial.partial_by_hand_kept(case.data, *case.params), want, rtol=1e-12)


def test_hand_written_hvp_matches_finite_difference_of_gradients():
    hvp = WORKLOADS["hvp"]
    case = hvp.cases(quick=True)[0]
    v = case.data["v"]
    exact = hvp.hvp_by_hand(case.data, v, *case.params)
    approximate = hvp.hvp_by_finite_difference(case.data, v, case.params)
    assert [np.shape(h) for h in exact] == [np.shape(p) for p in case.params]
    for e, a in zip(exact, approximate):
        assert np.max(np.abs(e - a)) <= 1e-6 * np.max(np.abs(a))


@pytest.mark.parametrize("name, contender", [("partial", "wengert gradient (reverse, all 2n)"),
                                             ("hvp", "wengert gradient (baseline)"),
                                             ("hvp", "numpy gradient (hand-written)")])
def test_gradient_rows_fail_on_a_wrong_gradient(name, contender):
    """The rows that time a whole gradient hand the harness another quantity (component i,
    the reference HVP); the gradient itself must still be checked."""
    workload = WORKLOADS[name]
    case = workload.cases(quick=True)[0]
    prepared = {c.name: c for c in workload.contenders(FAST)}[contender].build(case)
    right = prepared.run()
    prepared.to_numpy(right)                         # agrees: no exception
    wrong = tuple(g * 1.01 for g in right)
    with pytest.raises(AssertionError, match="differs"):
        prepared.to_numpy(wrong)
