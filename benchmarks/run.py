"""Time wengert's gradients against hand-written NumPy and peer AD systems, in one process.

    python3 benchmarks/run.py [--only chain,mlp,...,hvp] [--repeats N] [--quick]

Prints a Markdown table per workload and writes every sample to benchmarks/results/ (JSON).
Peers (autograd, JAX, PyTorch) run where installed; see docs/benchmarks.md.
"""
import os
import sys

# Single-threaded everywhere, set before NumPy (or any peer) is first imported: BLAS pools
# read these once, at load time.
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "JAX_ENABLE_X64": "1",
    "JAX_PLATFORMS": "cpu",
}
os.environ.update(SINGLE_THREAD_ENV)

# Run as a script, sys.path[0] is benchmarks/ itself; import the package from the repository
# root instead, and wengert from this checkout's src/ rather than whatever is installed.
_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
if sys.path and os.path.abspath(sys.path[0]) == _HERE:
    sys.path.pop(0)
sys.path[:0] = [os.path.join(_ROOT, "src"), _ROOT]

import argparse  # noqa: E402

from benchmarks import report  # noqa: E402
from benchmarks.harness import Options, run_case  # noqa: E402
from benchmarks.peers import versions  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

RESULTS_DIR = os.path.join(_HERE, "results")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help="comma-separated workloads (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="samples per contender (default 11; 3 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repeats: a smoke run of a few seconds")
    parser.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                        help="stop sampling a contender after this much time per case "
                             "(default 20; 2 with --quick)")
    parser.add_argument("--min-sample", type=float, default=None, metavar="SECONDS",
                        help="each sample repeats the call until it lasts this long "
                             "(default 0.05; 0.005 with --quick)")
    parser.add_argument("--slow-peers", action="store_true",
                        help="also run peers skipped for taking minutes (JAX on the loop)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if wengert fails or disagrees with the hand-written "
                             "gradient anywhere (for CI)")
    parser.add_argument("--profile", metavar="CONTENDER",
                        help="instead of timing, profile CONTENDER (e.g. wengert) with "
                             "cProfile on the selected workloads and print the top costs")
    parser.add_argument("--no-json", action="store_true", help="do not write a JSON file")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(WORKLOADS)}")
    return args


def options_from(args):
    quick = args.quick
    return Options(
        repeats=args.repeats if args.repeats is not None else (3 if quick else 11),
        min_sample_s=args.min_sample if args.min_sample is not None else (
            0.005 if quick else 0.05),
        budget_s=args.budget if args.budget is not None else (2.0 if quick else 20.0),
        slow_peers=args.slow_peers,
        quick=quick,
    )


def main(argv=None):
    args = parse_args(argv)
    options = options_from(args)
    workloads = [WORKLOADS[name] for name in args.only]
    if args.profile:
        from benchmarks.profiling import profile_workload

        for workload in workloads:
            profile_workload(workload, args.profile, options)
        return 0
    records, wengert_broken = [], False
    for workload in workloads:
        case_results = []
        for case in workload.cases(options.quick):
            print(f"[{workload.NAME}] {case.label} ...", file=sys.stderr, flush=True)
            results = run_case(case, workload.contenders(options), options)
            case_results.append((case, results))
            wengert_broken |= any(r.contender == "wengert" and r.status in ("failed", "mismatch")
                                  for r in results)
        print(report.markdown_table(workload, case_results), end="\n\n", flush=True)
        records.append(report.workload_record(workload, case_results))
    environment = report.environment(versions())
    print(_footer(environment))
    if not args.no_json:
        record = {"environment": environment, "options": vars(options), "workloads": records}
        path = report.write_json(record, RESULTS_DIR)
        print(f"\nJSON: {os.path.relpath(path)}", file=sys.stderr)
    return 1 if args.strict and wengert_broken else 0


def _footer(environment):
    v = environment["versions"]
    load = environment["load_average"]
    return (f"_Python {environment['python']}, "
            + ", ".join(f"{name} {version}" for name, version in v.items())
            + f"; BLAS {environment['blas']}; 1 thread; {environment['cpu_count']} CPUs"
            + (f", load average {load[0]:.2f}" if load else "")
            + ". Median of interleaved repeats; ratio = median / hand-written NumPy median._")


if __name__ == "__main__":
    sys.exit(main())
