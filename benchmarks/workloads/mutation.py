"""mutation: a recurrence written into an array, y[i] = y[i-1] + h·sin(y[i-1])·a, gradient.

    y[0] = y0,  y[i] = y[i-1] + h·sin(y[i-1])·a,  L = Σ y[i]²,  gradient w.r.t. (y0, a)

Every step reads back what the step before wrote, so this measures what a write into a
traced array costs, against the same computation written with a list and one stack at the
end. A write that copied the array (or a tape that kept each version of it) would make the
gradient O(n²) in time and memory: compare the per-element column across n.

- ``numpy (hand-written)``: the loop for the value, then the adjoint recurrence by hand
  (λ[i-1] = 2 y[i-1] + λ[i]·(1 + h·a·cos y[i-1]), ∂L/∂a = Σ λ[i]·h·sin y[i-1]), both as
  plain Python loops over floats: the sequential computation itself, with no AD.
- ``wengert, writes``: the loop as written above, into ``np.zeros(n) * a``.
- ``wengert, list + np.stack``: the same values appended to a list, stacked once.
- ``torch, writes``: PyTorch's in-place version. It must clone each read (``y[i-1].clone()``):
  without the clone, sin saves a view of y that the next write changes, and the backward
  pass raises ("modified by an inplace operation").
- ``torch, list + torch.stack``.

JAX has no in-place writes (``y.at[i].set`` copies under eager dispatch, O(n) per write) and
the eager loop compiles a kernel per new index, so it is left out, as in ``loop``.
"""
import math

import numpy as np

from ..harness import Case, Contender, Prepared, Skip, as_float64_tuple
from ..peers import _torch

NAME = "mutation"
TITLE = "mutation: y[i] = y[i-1] + h·sin(y[i-1])·a written into an array, gradient"
UNIT = "element"

H = 0.01
# PyTorch's in-place loop costs about 0.3-0.4 ms per element (development machine): above
# this n it runs only with --slow-peers (a minute or more per gradient at n = 10⁵).
TORCH_IN_PLACE_LIMIT = 30_000


def loss(xp, data, y0, a):
    """The recurrence written into an array (NumPy, and wengert on it)."""
    return written(xp, data["n"], y0, a)


def written(xp, n, y0, a):
    y = xp.zeros(n) * a
    y[0] = y0
    for i in range(1, n):
        previous = y[i - 1]
        y[i] = previous + H * xp.sin(previous) * a
    return xp.sum(y * y)


def stacked(xp, n, y0, a):
    ys = [y0 * 1.0]
    for _ in range(1, n):
        ys.append(ys[-1] + H * xp.sin(ys[-1]) * a)
    y = xp.stack(ys)
    return xp.sum(y * y)


def gradient_by_hand(data, y0, a):
    n, y0, a = data["n"], float(y0), float(a)
    y = [y0] * n
    for i in range(1, n):
        y[i] = y[i - 1] + H * math.sin(y[i - 1]) * a
    adjoint, d_a = 2.0 * y[n - 1], 0.0
    for i in range(n - 1, 0, -1):
        previous = y[i - 1]
        d_a += adjoint * H * math.sin(previous)
        adjoint = 2.0 * previous + adjoint * (1.0 + H * a * math.cos(previous))
    return (np.float64(adjoint), np.float64(d_a))


def cases(quick):
    sizes = (300, 1_000) if quick else (10_000, 100_000)
    return [Case(f"n = {n:.0e}".replace("e+0", "e"), {"n": n},
                 (np.array(0.4), np.array(1.3)), units=n) for n in sizes]


def contenders(options):
    return [Contender("numpy (hand-written)", _by_hand),
            Contender("wengert, writes", _wengert_written),
            Contender("wengert, list + np.stack", _wengert_stacked),
            Contender("torch, writes (clone each read)",
                      lambda case: _torch_written(case, options.slow_peers)),
            Contender("torch, list + torch.stack", _torch_stacked)]


def _by_hand(case):
    return Prepared(lambda: gradient_by_hand(case.data, *case.params), as_float64_tuple,
                    "value loop + adjoint loop")


def _wengert(case, f):
    import wengert as wg

    return Prepared(lambda: wg.gradient(f, *case.params), as_float64_tuple)


def _wengert_written(case):
    n = case.data["n"]
    return _wengert(case, lambda y0, a: written(np, n, y0, a))


def _wengert_stacked(case):
    n = case.data["n"]
    return _wengert(case, lambda y0, a: stacked(np, n, y0, a))


def _torch_params(torch, case):
    return tuple(torch.tensor(float(p), dtype=torch.float64, requires_grad=True)
                 for p in case.params)


def _torch_written(case, slow):
    torch = _torch()
    n = case.data["n"]
    if n > TORCH_IN_PLACE_LIMIT and not slow:
        raise Skip("a minute or more per gradient at this n; run with --slow-peers")
    params = _torch_params(torch, case)

    def loss(y0, a):
        y = torch.zeros(n, dtype=torch.float64)
        y[0] = y0
        for i in range(1, n):
            previous = y[i - 1].clone()
            y[i] = previous + H * torch.sin(previous) * a
        return torch.sum(y * y)

    return Prepared(lambda: torch.autograd.grad(loss(*params), params), as_float64_tuple)


def _torch_stacked(case):
    torch = _torch()
    n = case.data["n"]
    params = _torch_params(torch, case)
    return Prepared(lambda: torch.autograd.grad(stacked(torch, n, *params), params),
                    as_float64_tuple)

