"""hvp: a Hessian-vector product H·v of the mlp loss (3 tanh layers, 512 wide, batch 256,
float64) w.r.t. all weights and biases, v a random direction; by forward mode over reverse.

    wg.jvp(lambda *p: wg.gradient(loss, *p), params, v)[1]

differentiates the reverse-mode gradient along v in one forward pass: about twice the matrix
products of a gradient (each product's tangent has two terms), plus the gradient's own
products. The target is an HVP at most 4× one gradient, so the baseline here, the 1.0 of
the ratio column, is one wengert gradient of the same loss, not a hand-written HVP. Beside it:

- ``numpy gradient (hand-written)``: mlp's hand-written backprop, for scale.
- ``numpy hvp (hand-written)``: Pearlmutter's R-operator written out by hand (the gradient's
  backprop, differentiated along v): what an HVP costs without AD. Its result is the
  reference every HVP is checked against, after it has itself been checked against a central
  difference of hand-written gradients along v.
- JAX: ``jax.jvp`` of ``jax.grad``, eager and jit; PyTorch: ``torch.func.jvp`` of
  ``torch.func.grad``; autograd: ``make_hvp`` (reverse over reverse: autograd's documented
  HVP; its forward mode does not nest over ``grad``).

The two gradient rows return gradients, not HVPs: each is compared with the hand-written
gradient (a wrong one fails its row), then hands the reference HVP to the harness's check.
"""
import numpy as np

from ..harness import Contender, NotInstalled, Prepared, as_float64_tuple, compare, timed
from ..peers import _torch
from .mlp import gradient_by_hand, loss, make_case

NAME = "hvp"
TITLE = ("hvp: H·v of the mlp loss w.r.t. all weights and biases, forward over reverse "
         "(ratio to one wengert gradient)")
UNIT = None
FINITE_DIFFERENCE_STEP = 1e-5
FINITE_DIFFERENCE_RTOL = 1e-5

# --- the hand-written HVP -----------------------------------------------------------------------

def hvp_by_hand(data, v, w1, b1, w2, b2, w3, b3):
    """H·v by the R-operator: every quantity q of the backprop gets its derivative Rq along
    v = (v_w1, v_b1, ...), computed alongside it."""
    v_w1, v_b1, v_w2, v_b2, v_w3, v_b3 = v
    x, y = data["x"], data["y"]
    # Forward pass and its R-derivative.
    h1 = np.tanh(x @ w1 + b1)
    r_h1 = (1 - h1 * h1) * (x @ v_w1 + v_b1)
    h2 = np.tanh(h1 @ w2 + b2)
    r_h2 = (1 - h2 * h2) * (r_h1 @ w2 + h1 @ v_w2 + v_b2)
    residual = h2 @ w3 + b3 - y
    r_residual = r_h2 @ w3 + h2 @ v_w3 + v_b3
    # Backward pass and its R-derivative; d(1 − h²) = −2 h dh.
    d_out, r_d_out = (2 / residual.size) * residual, (2 / residual.size) * r_residual
    d_h2 = d_out @ w3.T
    r_d_h2 = r_d_out @ w3.T + d_out @ v_w3.T
    d_a2 = d_h2 * (1 - h2 * h2)
    r_d_a2 = r_d_h2 * (1 - h2 * h2) - 2 * d_h2 * h2 * r_h2
    d_h1 = d_a2 @ w2.T
    r_d_h1 = r_d_a2 @ w2.T + d_a2 @ v_w2.T
    r_d_a1 = r_d_h1 * (1 - h1 * h1) - 2 * d_h1 * h1 * r_h1
    return (x.T @ r_d_a1, r_d_a1.sum(axis=0),
            r_h1.T @ d_a2 + h1.T @ r_d_a2, r_d_a2.sum(axis=0),
            r_h2.T @ d_out + h2.T @ r_d_out, r_d_out.sum(axis=0))


def hvp_by_finite_difference(data, v, params, step=FINITE_DIFFERENCE_STEP):
    """(∇L(p + h v) − ∇L(p − h v)) / 2h, from hand-written gradients: error O(h²)."""
    plus = gradient_by_hand(data, *(p + step * d for p, d in zip(params, v)))
    minus = gradient_by_hand(data, *(p - step * d for p, d in zip(params, v)))
    return tuple((a - b) / (2 * step) for a, b in zip(plus, minus))


def reference_hvp(case):
    """The hand-written HVP, after checking it against the finite difference (relative to
    each block's largest entry)."""
    exact = hvp_by_hand(case.data, case.data["v"], *case.params)
    approximate = hvp_by_finite_difference(case.data, case.data["v"], case.params)
    for block, (e, a) in enumerate(zip(exact, approximate)):
        error = np.max(np.abs(e - a)) / np.max(np.abs(a))
        if error > FINITE_DIFFERENCE_RTOL:
            raise AssertionError(f"the hand-written HVP differs from a finite difference of "
                                 f"gradients in block {block} (rel. error {error:.1e})")
    return exact


# --- cases --------------------------------------------------------------------------------------

def make_hvp_case(batch, width, inputs, outputs, seed=0):
    """mlp's case, plus a direction v: one standard normal block per parameter."""
    case = make_case(batch, width, inputs, outputs, seed)
    rng = np.random.default_rng(seed + 1)
    case.data["v"] = tuple(rng.standard_normal(np.shape(p)) for p in case.params)
    return case


def cases(quick):
    if quick:
        return [make_hvp_case(batch=32, width=64, inputs=64, outputs=10)]
    return [make_hvp_case(batch=256, width=512, inputs=512, outputs=10)]


# --- contenders ---------------------------------------------------------------------------------

def contenders(options):
    return [Contender("wengert gradient (baseline)", _wengert_gradient),
            Contender("numpy gradient (hand-written)", _numpy_gradient),
            Contender("numpy hvp (hand-written)", _numpy_hvp),
            Contender("wengert", _wengert_hvp),
            Contender("autograd make_hvp", _autograd_hvp),
            Contender("jax eager jvp∘grad", lambda case: _jax_hvp(case, jit=False)),
            Contender("jax jit jvp∘grad", lambda case: _jax_hvp(case, jit=True)),
            Contender("torch func.jvp∘grad", _torch_hvp)]


def _f_of(case):
    return lambda *params: loss(np, case.data, *params)


def _wengert_gradient(case):
    import wengert as wg

    f = _f_of(case)
    return Prepared(lambda: wg.gradient(f, *case.params), _reference_after_check(case),
                    "one gradient, not an HVP")


def _numpy_gradient(case):
    return Prepared(lambda: gradient_by_hand(case.data, *case.params),
                    _reference_after_check(case), "one gradient, not an HVP")


def _reference_after_check(case):
    """``to_numpy`` for a gradient row: compare the gradient with the hand-written one (raise
    if it differs, which reports the row as failed), then give the harness the reference HVP
    (the first row's answer is what every HVP is checked against)."""
    want = gradient_by_hand(case.data, *case.params)
    reference = reference_hvp(case)

    def to_numpy(grads):
        ok, worst = compare(as_float64_tuple(grads), want)
        if not ok:
            raise AssertionError(f"gradient differs from the hand-written one (max rel. error "
                                 f"{worst:.1e})")
        return reference

    return to_numpy


def _numpy_hvp(case):
    return Prepared(lambda: hvp_by_hand(case.data, case.data["v"], *case.params),
                    as_float64_tuple, "R-operator")


def _wengert_hvp(case):
    import wengert as wg

    f = _f_of(case)

    def run():
        return wg.jvp(lambda *p: wg.gradient(f, *p), case.params, case.data["v"])[1]

    return Prepared(run, as_float64_tuple)


def _autograd_hvp(case):
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        raise NotInstalled("autograd") from None
    data, params, v = case.data, list(case.params), list(case.data["v"])
    make_hvp = autograd.make_hvp(lambda params: loss(anp, data, *params))
    return Prepared(lambda: make_hvp(params)[0](v), as_float64_tuple, "reverse over reverse")


def _jax_hvp(case, jit):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise NotInstalled("jax") from None
    jax.config.update("jax_enable_x64", True)
    data = {k: jnp.asarray(case.data[k]) for k in ("x", "y")}
    params = tuple(jnp.asarray(p) for p in case.params)
    v = tuple(jnp.asarray(d) for d in case.data["v"])
    grad = jax.grad(lambda params: loss(jnp, data, *params))

    def hvp(params, v):
        return jax.jvp(grad, (params,), (v,))[1]

    note = ""
    if jit:
        hvp = jax.jit(hvp)
        _, seconds = timed(lambda: jax.block_until_ready(hvp(params, v)))
        note = f"trace+compile {seconds:.2g} s"
    return Prepared(lambda: jax.block_until_ready(hvp(params, v)), as_float64_tuple, note)


def _torch_hvp(case):
    torch = _torch()
    from torch.func import grad, jvp

    data = {k: torch.from_numpy(case.data[k]) for k in ("x", "y")}
    params = tuple(torch.from_numpy(p) for p in case.params)
    v = tuple(torch.from_numpy(d) for d in case.data["v"])
    grad_loss = grad(lambda params: loss(torch, data, *params))
    return Prepared(lambda: jvp(grad_loss, (params,), (v,))[1], as_float64_tuple)
