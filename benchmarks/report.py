"""Reporting: a Markdown table per workload and one JSON file per run."""
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

FIRST_CALL_NOTE_FACTOR = 10     # mention the first call when it was this much slower


# --- Markdown ------------------------------------------------------------------------------------

def markdown_table(workload, case_results):
    """``case_results``: list of (case, [Result]); the first result of each is the baseline.
    Peers that are not installed get no rows, only a line under the table; a note that
    repeats one above it is shortened to "as above"."""
    unit = workload.UNIT
    header = ["case", "contender", "median", "vs NumPy"]
    if unit:
        header.append(f"per {unit}")
    header.append("notes")
    align = ["---", "---", "---:", "---:"] + (["---:"] if unit else []) + ["---"]
    lines = [f"### {workload.TITLE}", "", _row(header), _row(align)]
    absent, seen_notes = [], set()
    for case, results in case_results:
        base = results[0].median_s
        for r in results:
            if r.status == "absent":
                if r.note not in absent:
                    absent.append(r.note)
                continue
            cells = [case.label, r.contender, format_time(r.median_s),
                     format_ratio(r.median_s, base)]
            if unit:
                cells.append(format_time(_per_unit(r, case)))
            text = notes(r)
            if r.status == "skipped" and text in seen_notes:
                text = "skipped (as above)"
            seen_notes.add(text)
            cells.append(text)
            lines.append(_row(cells))
    if absent:
        lines += ["", f"_Not installed, so not run: {', '.join(absent)} "
                      "(see docs/benchmarks.md)._"]
    return "\n".join(lines)


def _row(cells):
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def notes(result):
    parts = []
    if result.status == "skipped":
        parts.append(result.note if result.note.startswith("skipped") else
                     f"skipped: {result.note}")
    elif result.status == "failed":
        parts.append(f"FAILED: {result.note}")
    elif result.status == "mismatch":
        parts.append(f"EXCLUDED: {result.note}")
    else:
        if result.note:
            parts.append(result.note)
        first, median = result.first_call_s, result.median_s
        if first and median and first > FIRST_CALL_NOTE_FACTOR * median and first > 0.05:
            parts.append(f"first call {format_time(first)}")
    return "; ".join(parts)


def _per_unit(result, case):
    if result.median_s is None or not case.units:
        return None
    return result.median_s / case.units


def format_time(seconds):
    if seconds is None:
        return "—"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_ratio(median, base):
    if median is None or not base:
        return "—"
    ratio = median / base
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.3g}×"


# --- JSON --------------------------------------------------------------------------------------

def result_record(result, case, base_median):
    median = result.median_s
    return {
        "contender": result.contender,
        "status": result.status,
        "note": result.note,
        "median_s": median,
        "ratio_to_numpy": median / base_median if median and base_median else None,
        "per_unit_s": _per_unit(result, case),
        "samples_s": result.samples,
        "calls_per_sample": result.number,
        "first_call_s": result.first_call_s,
    }


def workload_record(workload, case_results):
    cases = []
    for case, results in case_results:
        base = results[0].median_s
        cases.append({"label": case.label, "units": case.units,
                      "results": [result_record(r, case, base) for r in results]})
    return {"name": workload.NAME, "title": workload.TITLE, "unit": workload.UNIT,
            "cases": cases}


def environment(versions):
    """What the numbers depend on: machine, thread settings, library versions, the commit."""
    return {
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "thread_env": {k: os.environ.get(k) for k in (
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS",
            "JAX_ENABLE_X64", "JAX_PLATFORMS")},
        "blas": _blas(),
        "versions": versions,
        "git": _git_commit(),
    }


def _blas():
    try:
        config = np.show_config(mode="dicts")
        return config["Build Dependencies"]["blas"].get("name")
    except Exception:  # noqa: BLE001 - older NumPy: not worth failing a run over
        return None


def _git_commit():
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit or None, "src_modified": bool(dirty)}


def write_json(record, directory):
    """Write ``record`` to ``directory/<UTC time>.json`` and ``latest.json``; returns the
    first path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = directory / f"{stamp}.json"
    text = json.dumps(record, indent=1, ensure_ascii=False)
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    return path
