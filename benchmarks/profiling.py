"""cProfile of one contender on a workload: where the time of each unit (op, element) goes.

    python3 benchmarks/run.py --only chain --profile wengert

Profiling inflates every Python call (and charges its own overhead to the caller), so read
the shares, not the absolute numbers; the unprofiled time per unit is printed alongside for
scale. For wengert, a split of the time into recording (the forward pass under the tracer)
and the backward pass, with plain NumPy and with the garbage collector off for comparison,
comes first: that split needs no profiler.
"""
import cProfile
import gc
import os
import pstats
import statistics
import time

import numpy as np

from .report import format_time

PROFILE_SECONDS = 2.0       # profile about this much work per case


def profile_workload(workload, contender_name, options, top=25):
    for case in workload.cases(options.quick):
        contenders = {c.name: c for c in workload.contenders(options)}
        if contender_name not in contenders:
            raise SystemExit(f"no contender {contender_name!r} in {workload.NAME}; choose from "
                             f"{', '.join(contenders)}")
        prepared = contenders[contender_name].build(case)
        prepared.run()                                      # warm-up
        start = time.perf_counter()
        prepared.run()
        one_call = time.perf_counter() - start
        calls = max(1, round(PROFILE_SECONDS / max(one_call, 1e-9)))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls):
            prepared.run()
        profiler.disable()
        units = calls * (case.units or 1)
        per = workload.UNIT or "gradient"
        print(f"### profile: {contender_name} on {workload.NAME}, {case.label}\n")
        if contender_name == "wengert":
            print(_wengert_phases(workload, case, per), end="\n\n")
        print(f"Unprofiled: {format_time(one_call / (case.units or 1))} per {per}; "
              f"profiled {calls} gradient(s).\n")
        print(_table(pstats.Stats(profiler), units, per, top), end="\n\n")


def _table(stats, units, per, top):
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    total = sum(entry[2] for entry in stats.stats.values())
    lines = [f"| function | calls per {per} | own time per {per} | share | "
             f"cumulative per {per} |", "| --- | ---: | ---: | ---: | ---: |"]
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in rows:
        lines.append(f"| {_where(filename, line, name)} | {ncalls / units:.3g} | "
                     f"{format_time(tottime / units)} | {100 * tottime / total:.1f}% | "
                     f"{format_time(cumtime / units)} |")
    return "\n".join(lines)


def _where(filename, line, name):
    if filename == "~":                      # a built-in: cProfile gives no file
        return f"`{name}`"
    parts = filename.replace(os.sep, "/").split("/")
    short = "/".join(parts[-2:]) if "wengert" in parts else parts[-1]
    return f"`{short}:{line} {name}`"


# --- wengert's time by phase ------------------------------------------------------------------

def _wengert_phases(workload, case, per):
    import wengert as wg

    data, params = case.data, case.params

    def f(*params):
        return workload.loss(np, data, *params)

    y, back = wg.pullback(f, *params)
    seed = np.ones_like(y)[()]
    rows = [("plain NumPy function (no AD)", lambda: f(*params)),
            ("wengert forward (records the tape)", lambda: wg.pullback(f, *params)),
            ("wengert backward (back(1) on a recorded tape)", lambda: back(seed)),
            ("wengert gradient", lambda: wg.gradient(f, *params)),
            ("wengert gradient, garbage collector off", _without_gc(
                lambda: wg.gradient(f, *params)))]
    units = case.units or 1
    lines = [f"| phase | per {per} |", "| --- | ---: |"]
    for name, run in rows:
        lines.append(f"| {name} | {format_time(_median_time(run) / units)} |")
    return "\n".join(lines)


def _without_gc(run):
    def run_without_gc():
        enabled = gc.isenabled()
        gc.disable()
        try:
            return run()
        finally:
            if enabled:
                gc.enable()

    return run_without_gc


def _median_time(run, samples=7, min_sample_s=0.05):
    run()
    start = time.perf_counter()
    run()
    number = max(1, round(min_sample_s / max(time.perf_counter() - start, 1e-9)))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(number):
            run()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)
