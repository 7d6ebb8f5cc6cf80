"""The contenders every workload shares: wengert and the peer AD systems.

A workload writes its function once, as ``loss(xp, data, *params)`` over an array namespace
``xp`` (numpy, autograd.numpy, jax.numpy or torch), and ``standard(loss)`` turns it into
one contender per system. Peers are imported only when a contender is built, configured
for one thread and float64, and skipped with a note where they are not installed.
"""
import sys

import numpy as np

from .harness import Contender, NotInstalled, Prepared, Skip, as_float64_tuple, timed



def baseline(gradient_by_hand):
    """The hand-written NumPy gradient ``gradient_by_hand(data, *params)``: the reference
    every other contender is checked against and divided by."""
    def build(case):
        return Prepared(lambda: gradient_by_hand(case.data, *case.params), as_float64_tuple)

    return Contender("numpy (hand-written)", build)


def standard(loss, skip=None):
    """wengert, autograd, JAX eager, JAX jit and PyTorch eager on ``loss``. ``skip`` maps a
    contender's name to the reason it does not run on this workload."""
    skip = skip or {}
    makers = {"wengert": wengert, "autograd": autograd, "jax eager": jax_eager,
              "jax jit": jax_jit, "torch eager": torch_eager}
    return [Contender(name, _builder(name, make, loss, skip)) for name, make in makers.items()]


def _builder(name, make, loss, skip):
    def build(case):
        if name in skip:
            raise Skip(skip[name])
        return make(loss, case)

    return build


# --- the systems -------------------------------------------------------------------------------

def wengert(loss, case):
    import wengert as wg

    data, params = case.data, case.params

    def f(*params):
        return loss(np, data, *params)

    return Prepared(lambda: wg.gradient(f, *params), as_float64_tuple)


def wengert_compiled(loss):
    """wengert's gradient under ``wg.compile``: the first call traces (its time is the note,
    beside JAX's trace+compile), the timed calls run the emitted NumPy program."""
    def build(case):
        import wengert as wg

        data, params = case.data, case.params

        def f(*params):
            return loss(np, data, *params)

        compiled = wg.compile(lambda *params: wg.gradient(f, *params))
        _, seconds = timed(lambda: compiled(*params))
        return Prepared(lambda: compiled(*params), as_float64_tuple, f"trace {seconds:.2g} s")

    return Contender("wengert compiled", build)


def autograd(loss, case):
    try:
        import autograd as ag
        import autograd.numpy as anp
    except ImportError:
        raise NotInstalled("autograd") from None
    data, params = case.data, list(case.params)
    grad_all = ag.grad(lambda params: loss(anp, data, *params))
    return Prepared(lambda: grad_all(params), as_float64_tuple)


def jax_eager(loss, case):
    return _jax(loss, case, jit=False)


def jax_jit(loss, case):
    return _jax(loss, case, jit=True)


def _jax(loss, case, jit):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise NotInstalled("jax") from None
    jax.config.update("jax_enable_x64", True)
    data = {k: jnp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in case.data.items()}
    params = tuple(jnp.asarray(p) for p in case.params)
    grad_all = jax.grad(lambda params: loss(jnp, data, *params))
    note = ""
    if jit:
        grad_all = jax.jit(grad_all)
        _, seconds = timed(lambda: jax.block_until_ready(grad_all(params)))
        note = f"trace+compile {seconds:.2g} s"
    # JAX dispatches asynchronously: a gradient is done only once it is ready.
    return Prepared(lambda: jax.block_until_ready(grad_all(params)), as_float64_tuple, note)


def torch_eager(loss, case):
    torch = _torch()
    data = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
            for k, v in case.data.items()}
    params = tuple(torch.tensor(p, dtype=torch.float64, requires_grad=True)
                   for p in case.params)

    def run():
        return torch.autograd.grad(loss(torch, data, *params), params)

    return Prepared(run, as_float64_tuple)


def _torch():
    try:
        import torch
    except ImportError:
        raise NotInstalled("torch") from None
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass            # already set, or torch has already started its pool: harmless here
    return torch


def versions():
    """Versions of the numerical packages this process has imported."""
    from importlib import metadata

    found = {}
    for name in ("numpy", "scipy", "wengert", "autograd", "jax", "jaxlib", "torch"):
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = getattr(module, "__version__", "(source checkout)")
    return found
