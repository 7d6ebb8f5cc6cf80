"""What a SciPy door adds to a call outside any transformation.

wengert replaces the public attributes of the SciPy modules it supports (scipy.linalg,
scipy.special, ...) by doors that enter wengert's dispatch with the original function. With
no traced argument the door calls the original with the same arguments, so the result is the
same object bit for bit; this script measures the time that costs per call, side by side
with the original, on small inputs where the overhead shows most.

    python3 benchmarks/doors.py
"""
import timeit
import types

import numpy as np
import scipy.linalg
import scipy.special
import scipy.stats

import wengert  # noqa: F401  (installs the doors)

rng = np.random.default_rng(0)
a = np.triu(rng.random((3, 3))) + 3 * np.eye(3)
b = rng.random(3)
CALLS = {
    "scipy.linalg.solve_triangular(a, b)": (scipy.linalg.solve_triangular, (a, b), {}),
    "scipy.linalg.cholesky(a @ a.T, lower=True)": (scipy.linalg.cholesky, (a @ a.T,),
                                                   {"lower": True}),
    "scipy.special.logsumexp(b)": (scipy.special.logsumexp, (b,), {}),
    "scipy.stats.norm.logpdf(b, 0.5, 2.0)": (scipy.stats.norm.logpdf, (b, 0.5, 2.0), {}),
}


def per_call(fn, args, kwargs, number=20000):
    return min(timeit.repeat(lambda: fn(*args, **kwargs), number=number, repeat=7)) / number


def _trivial_door():
    """A door around a function that does nothing: the door's own cost, free of SciPy's
    run-to-run noise."""
    import types

    from wengert.rules._reach import reach

    module = types.ModuleType("trivial")
    module.f = lambda a, b, lower=False: a
    reach(module, "f")
    return module.f


def main():
    print(f"{'call':48s} {'original':>10s} {'door':>10s} {'added':>10s}")
    CALLS["a door around lambda a, b, lower: a"] = (_trivial_door(), (b, b), {"lower": True})
    for name, (door, args, kwargs) in CALLS.items():
        original = getattr(door, "__wrapped__", None)
        if original is None:
            print(f"{name:48s} (no door installed)")
            continue
        if isinstance(door, types.MethodType):   # scipy.stats: the door is on the class
            original = types.MethodType(original, door.__self__)
        assert np.array_equal(door(*args, **kwargs), original(*args, **kwargs))
        t_orig = per_call(original, args, kwargs)
        t_door = per_call(door, args, kwargs)
        print(f"{name:48s} {t_orig * 1e6:8.2f}µs {t_door * 1e6:8.2f}µs "
              f"{(t_door - t_orig) * 1e9:8.0f}ns")


if __name__ == "__main__":
    main()
