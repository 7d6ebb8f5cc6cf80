"""Timing and checking: one case, every contender, interleaved repeats, medians.

A *contender* is a way to compute one gradient (hand-written NumPy, wengert, a peer). For
each case the harness builds every contender, runs each once and compares its gradient with
the hand-written one (the first contender, the baseline), then times the survivors in
rounds: every round gives each contender one sample, in a rotated order, so that whatever
the machine does meanwhile (other processes, frequency changes) hits all of them alike.
A sample is the mean of ``number`` back-to-back calls, ``number`` chosen so that a sample
lasts at least ``min_sample_s``. The reported time is the median of the samples.

The garbage collector stays on: collecting the cycles an AD system leaves is part of its
cost, as a user pays it. But what is already alive when timing starts (the data, every
peer's caches: JAX eager keeps thousands of compiled kernels) is frozen out of collection
first; otherwise one system's full collections would walk another system's objects, and a
contender's time would depend on which peers ran before it.
"""
import gc
import math
import statistics
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class Skip(Exception):
    """A contender that does not run on this case (too slow, not meaningful, ...); the
    message becomes the note in the table."""


class NotInstalled(Skip):
    """A peer that is not installed: listed under the table rather than given rows."""


@dataclass
class Case:
    """One problem size of a workload: fixed data, the arguments to differentiate, and how
    many units (ops, elements) one gradient covers, for the per-unit column."""

    label: str
    data: dict
    params: tuple
    units: int | None = None


@dataclass
class Prepared:
    """A contender ready to run on one case. ``run()`` computes one gradient and returns
    only when it is done (asynchronous systems block inside it); ``to_numpy`` turns its
    result into a tuple of float64 arrays, one per parameter, for the check."""

    run: Callable[[], Any]
    to_numpy: Callable[[Any], tuple]
    note: str = ""


@dataclass
class Contender:
    name: str
    build: Callable[[Case], Prepared]   # may raise Skip


@dataclass
class Options:
    repeats: int = 11
    min_sample_s: float = 0.05    # each sample lasts at least this long
    budget_s: float = 20.0        # stop sampling a contender once it has used this much
    slow_peers: bool = False      # include peers known to take minutes on some workloads
    quick: bool = False


@dataclass
class Result:
    contender: str
    status: str = "ok"            # ok | skipped | absent | failed | mismatch
    note: str = ""
    samples: list = field(default_factory=list)
    number: int = 1               # calls per sample
    first_call_s: float | None = None
    spent_s: float = 0.0
    capped: bool = False
    prepared: Prepared | None = field(default=None, repr=False)

    @property
    def median_s(self):
        return statistics.median(self.samples) if self.samples else None

    def add_note(self, text):
        self.note = f"{self.note}; {text}" if self.note else text


# --- checking --------------------------------------------------------------------------------

def as_float64_tuple(grads):
    """Any gradient structure a contender returns (tuple, list, one array; NumPy, JAX or
    PyTorch arrays, Python floats) as a tuple of float64 NumPy arrays."""
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    return tuple(np.asarray(_detached(g), dtype=np.float64) for g in grads)


def _detached(g):
    detach = getattr(g, "detach", None)    # a torch tensor: leave the autograd graph
    return detach().cpu() if callable(detach) else g


def compare(got, want):
    """``(ok, worst relative error)``. Each gradient must have the reference's shape and be
    np.allclose to it, with the absolute tolerance scaled to the reference's magnitude so
    that tiny gradients are compared as strictly as large ones."""
    if len(got) != len(want):
        return False, math.inf
    worst = 0.0
    ok = True
    for g, w in zip(got, want):
        if g.shape != w.shape:
            return False, math.inf
        scale = float(np.max(np.abs(w))) if w.size else 0.0
        atol = 1e-8 * scale if scale > 0 else 1e-12
        if not np.allclose(g, w, rtol=1e-5, atol=atol):
            ok = False
        if w.size:
            worst = max(worst, float(np.max(np.abs(g - w)) / max(scale, 1e-300)))
    return ok, worst


# --- one case --------------------------------------------------------------------------------

def run_case(case, contenders, options):
    """Build, check and time every contender on ``case``; the first one is the baseline."""
    results = [_build(c, case) for c in contenders]
    baseline, peers = results[0], results[1:]
    reference = _first_call(baseline) if baseline.status == "ok" else None
    for r in peers:
        if r.status != "ok":
            continue
        if reference is None:
            r.status, r.note = "failed", "no reference gradient (the baseline failed)"
            continue
        got = _first_call(r)
        if r.status == "ok":
            _check(r, got, reference)
    timed = [r for r in results if r.status == "ok"]
    gc.collect()
    gc.freeze()
    try:
        for r in timed:
            _calibrate(r, options)
        _interleaved_rounds(timed, options)
    finally:
        gc.unfreeze()
    for r in results:
        r.prepared = None          # drop closures over large arrays
    return results


def _build(contender, case):
    result = Result(contender.name)
    try:
        result.prepared = contender.build(case)
        result.note = result.prepared.note
    except Skip as reason:
        result.status = "absent" if isinstance(reason, NotInstalled) else "skipped"
        result.note = str(reason)
    except Exception as error:  # noqa: BLE001 - a broken contender is reported, not fatal
        result.status, result.note = "failed", describe_error(error)
    return result


def _first_call(result):
    """Run once (the warm-up) and return the gradient as float64 arrays, or None."""
    try:
        start = time.perf_counter()
        out = result.prepared.run()
        result.first_call_s = time.perf_counter() - start
        result.spent_s += result.first_call_s
        return result.prepared.to_numpy(out)
    except Exception as error:  # noqa: BLE001
        result.status, result.note = "failed", describe_error(error)
        return None


def _check(result, got, reference):
    ok, worst = compare(got, reference)
    if not ok:
        result.status = "mismatch"
        result.note = f"gradient differs from hand-written (max rel. error {worst:.1e})"


def _calibrate(result, options):
    """Choose calls per sample from one more (warm) call."""
    try:
        elapsed = _time_calls(result.prepared.run, 1)
    except Exception as error:  # noqa: BLE001
        result.status, result.note = "failed", describe_error(error)
        return
    result.spent_s += elapsed
    if elapsed >= options.min_sample_s:
        # Slow enough that this call is a genuine sample already.
        result.samples.append(elapsed)
        return
    result.number = min(100_000, max(1, math.ceil(options.min_sample_s / max(elapsed, 1e-9))))


def _interleaved_rounds(results, options):
    for round_index in range(options.repeats):
        active = [r for r in results if r.status == "ok" and not r.capped
                  and len(r.samples) < options.repeats]
        if not active:
            return
        shift = round_index % len(active)
        for r in active[shift:] + active[:shift]:
            _sample(r, options)


def _sample(result, options):
    try:
        per_call = _time_calls(result.prepared.run, result.number)
    except Exception as error:  # noqa: BLE001
        result.status, result.note = "failed", describe_error(error)
        return
    result.samples.append(per_call)
    result.spent_s += per_call * result.number
    if result.spent_s >= options.budget_s and len(result.samples) < options.repeats:
        result.capped = True
        result.add_note(f"{len(result.samples)} repeats (time budget {options.budget_s:g} s)")


def _time_calls(run, number):
    start = time.perf_counter()
    for _ in range(number):
        run()
    return (time.perf_counter() - start) / number


def describe_error(error, limit=160):
    """A one-line account of an exception for the notes column."""
    message = " ".join(str(error).split())
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    where = traceback.extract_tb(error.__traceback__)
    origin = f" (at {where[-1].name})" if where else ""
    return f"{type(error).__name__}: {message}{origin}"


def timed(build):
    """``(value, seconds)`` of calling ``build()``: for notes such as a jit compile time."""
    start = time.perf_counter()
    value = build()
    return value, time.perf_counter() - start
