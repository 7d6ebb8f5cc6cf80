"""wengert's benchmarks: gradients timed side by side with hand-written NumPy and peer AD
systems, in one process. Run ``python3 benchmarks/run.py --help``; see docs/benchmarks.md."""
