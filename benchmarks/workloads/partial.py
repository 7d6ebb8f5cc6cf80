"""partial: one partial derivative ∂f/∂x_i of f(x, y) = exp(-‖x − y‖²), x and y of size 10⁶.

    ∂f/∂x_i = −2 (x_i − y_i) f(x, y)

costs one evaluation of f by hand, so the baseline is that: f, then three scalar operations.
wengert's ``wg.partial`` runs f once in forward mode with a one-hot tangent that stays sparse
(x − y, its square and its sum each carry one number, not n), so it should cost about one
evaluation of f too; the target is at most 1.5×. Beside it:

- ``wengert gradient (reverse, all 2n)``: ``wg.gradient(f, x, y)``, what one would otherwise
  call and then index: it computes 2n partials to use one. Its check is on component i,
  after the whole gradient has been compared with the analytic one.
- ``wengert jvp, dense one-hot``: ``wg.jvp`` with an n-element one-hot built per call, as
  the peers must do: what the sparse tangent saves.
- JAX (eager and jit) and PyTorch (``torch.func.jvp``) in forward mode. Neither has a sparse
  tangent, so each call materializes a dense one-hot of size n and carries n tangent values
  through f: that is the honest comparison, the call a user of those systems would write.
  Under jit the one-hot is built inside the compiled function (XLA may fuse it away).

A second hand-written row, ``numpy f, x − y kept``, shows what wengert's partial cannot avoid
at this size. In plain NumPy, ``(x − y) ** 2`` squares the temporary x − y in place (NumPy
reuses a large temporary that nothing else refers to), so f allocates one n-element array,
not two. A tracer keeps x − y alive, as a variable holding it would, so under any AD system
the square needs a fresh array, and where fresh pages are faulted in that is a visible share
of f. The row computes f with x − y in a variable; in development runs it and wengert's row
were within noise of each other.
"""
import numpy as np

from ..harness import (Case, Contender, NotInstalled, Prepared, as_float64_tuple, compare,
                       timed)
from ..peers import _torch

NAME = "partial"
TITLE = "partial: ∂f/∂x_i of f(x, y) = exp(-‖x − y‖²), one partial vs one evaluation of f"
UNIT = None


def loss(xp, data, x, y):
    return xp.exp(-xp.sum((x - y) ** 2))


def partial_by_hand(data, x, y):
    """The baseline: one evaluation of f and the analytic ∂f/∂x_i."""
    i = data["index"]
    return -2 * (x[i] - y[i]) * loss(np, data, x, y)


def partial_by_hand_kept(data, x, y):
    """The same, with x − y held in a variable while it is squared, as a tracer holds it."""
    i = data["index"]
    difference = x - y
    return -2 * (x[i] - y[i]) * np.exp(-np.sum(difference ** 2))


def gradient_by_hand(data, x, y):
    """The whole gradient, ∂f/∂x = −2 (x − y) f = −∂f/∂y: the check of the reverse row."""
    d_x = -2 * (x - y) * loss(np, data, x, y)
    return (d_x, -d_x)


# --- cases --------------------------------------------------------------------------------------

def make_case(n, seed=0):
    """x standard normal and y = x + noise of variance 1/n, so that ‖x − y‖² ≈ 1 and f ≈ e⁻¹
    whatever n: neither f nor the partial underflows."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    y = x + rng.standard_normal(n) / np.sqrt(n)
    return Case(f"n = {n:.0e}".replace("e+0", "e"), {"index": n // 3}, (x, y))


def cases(quick):
    return [make_case(10**4 if quick else 10**6)]


# --- contenders ---------------------------------------------------------------------------------

def contenders(options):
    return [Contender("numpy f(x, y) (hand-written)", _numpy_baseline),
            Contender("numpy f, x − y kept", _numpy_kept),
            Contender("wengert", _wengert_partial),
            Contender("wengert compiled", _wengert_compiled_partial),
            Contender("wengert gradient (reverse, all 2n)", _wengert_gradient),
            Contender("wengert jvp, dense one-hot", _wengert_dense_jvp),
            Contender("jax eager jvp", lambda case: _jax_jvp(case, jit=False)),
            Contender("jax jit jvp", lambda case: _jax_jvp(case, jit=True)),
            Contender("torch func.jvp", _torch_jvp)]


def _numpy_baseline(case):
    return Prepared(lambda: partial_by_hand(case.data, *case.params), as_float64_tuple,
                    "f, then −2 (x_i − y_i) f")


def _numpy_kept(case):
    return Prepared(lambda: partial_by_hand_kept(case.data, *case.params), as_float64_tuple,
                    "no in-place square (see docstring)")


def _f_of(case):
    return lambda x, y: loss(np, case.data, x, y)


def _wengert_partial(case):
    import wengert as wg

    f, i = _f_of(case), case.data["index"]
    return Prepared(lambda: wg.partial(f, *case.params, argnum=0, index=i), as_float64_tuple)


def _wengert_compiled_partial(case):
    import wengert as wg

    f, i = _f_of(case), case.data["index"]
    compiled = wg.compile(lambda x, y: wg.partial(f, x, y, argnum=0, index=i))
    _, seconds = timed(lambda: compiled(*case.params))
    return Prepared(lambda: compiled(*case.params), as_float64_tuple, f"trace {seconds:.2g} s")


def _wengert_gradient(case):
    import wengert as wg

    f = _f_of(case)
    return Prepared(lambda: wg.gradient(f, *case.params), _component_after_check(case))


def _component_after_check(case):
    """``to_numpy`` for a whole gradient: compare it all with the analytic gradient (raise if
    it differs, which reports the row as failed), then hand component i to the harness."""
    want = gradient_by_hand(case.data, *case.params)
    i = case.data["index"]

    def to_numpy(grads):
        got = as_float64_tuple(grads)
        ok, worst = compare(got, want)
        if not ok:
            raise AssertionError(f"gradient differs from the analytic one (max rel. error "
                                 f"{worst:.1e})")
        return (got[0][i],)

    return to_numpy


def _wengert_dense_jvp(case):
    import wengert as wg

    x, y = case.params
    i = case.data["index"]

    def run():
        unit = np.zeros_like(x)
        unit[i] = 1.0
        return wg.jvp(lambda x: loss(np, case.data, x, y), (x,), (unit,))[1]

    return Prepared(run, as_float64_tuple)


def _jax_jvp(case, jit):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise NotInstalled("jax") from None
    jax.config.update("jax_enable_x64", True)
    x, y = (jnp.asarray(p) for p in case.params)
    i = case.data["index"]

    def partial(x, y, i):
        unit = jnp.zeros_like(x).at[i].set(1.0)
        return jax.jvp(lambda x: loss(jnp, case.data, x, y), (x,), (unit,))[1]

    note = "dense one-hot per call"
    if jit:
        partial = jax.jit(partial)
        _, seconds = timed(lambda: jax.block_until_ready(partial(x, y, i)))
        note += f"; trace+compile {seconds:.2g} s"
    return Prepared(lambda: jax.block_until_ready(partial(x, y, i)), as_float64_tuple, note)


def _torch_jvp(case):
    torch = _torch()
    from torch.func import jvp

    x, y = (torch.from_numpy(p) for p in case.params)
    i = case.data["index"]

    def run():
        unit = torch.zeros_like(x)
        unit[i] = 1.0
        return jvp(lambda x: loss(torch, case.data, x, y), (x,), (unit,))[1]

    return Prepared(run, as_float64_tuple, "dense one-hot per call")
