"""Checks of derivatives against central finite differences.

The check pairs a random output cotangent ``v`` with the function, ``L(x) = Re⟨v, f(x)⟩``,
so one reverse pass gives the whole gradient of ``L``, and compares it with central
differences of ``L`` in float64 — per coordinate for small inputs, along random directions
(the cheap ⟨v, J u⟩ check) for large ones. Complex inputs are checked in their real and
imaginary parts, with the convention that the gradient is ∂L/∂Re z + i ∂L/∂Im z.
"""
import numpy as np

from .core.levels import primal
from .tree import flatten, is_differentiable, unflatten

_FULL_CHECK_SIZE = 40


def _tolerance(dtype):
    return (2e-2, 2e-3) if np.dtype(dtype) in (np.float32, np.complex64) else (1e-5, 1e-5)


def _as_float64(x):
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc":
        return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
    if isinstance(x, np.generic) and x.dtype.kind in "fc":
        return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
    return x


def _pairing(out, v):
    return float(sum(np.real(np.sum(np.conj(vi) * np.asarray(oi)))
                     for vi, oi in zip(v, flatten(out)[0])))


def _random_like(x, rng):
    x = np.asarray(primal(x))
    r = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        r = r + 1j * rng.standard_normal(x.shape)
    return r.astype(x.dtype) if x.dtype.kind in "fc" else r


class _Problem:
    """``f`` at ``args`` seen as a function of the flat real coordinates of its
    differentiable leaves."""

    def __init__(self, f, args, rng):
        self.f = f
        self.leaves, self.treedef = flatten(args)
        self.diff = [i for i, x in enumerate(self.leaves) if is_differentiable(x)]
        out_leaves = flatten(f(*args))[0]
        self.v = [_random_like(o, rng) for o in out_leaves]

    def loss64(self, leaves):
        args = unflatten(self.treedef, [_as_float64(x) for x in leaves])
        return _pairing(self.f(*args), self.v)

    def finite_difference(self, i, direction, eps):
        """d/dt L(x_i + t·direction) at t = 0, by central differences."""
        def shifted(t):
            leaves = list(self.leaves)
            x = _as_float64(leaves[i])
            leaves[i] = x + t * direction if not isinstance(x, (float, complex)) else (
                type(x)(x + t * direction))
            return self.loss64(leaves)

        return (shifted(eps) - shifted(-eps)) / (2 * eps)


def _directions(x, rng):
    """Real coordinate directions for small leaves, a few random ones for large leaves."""
    x = np.asarray(primal(x))
    complex_ = x.dtype.kind == "c"
    units = [1.0, 1j] if complex_ else [1.0]
    if x.size <= _FULL_CHECK_SIZE:
        for k in range(x.size):
            for u in units:
                d = np.zeros(x.shape, np.complex128 if complex_ else np.float64)
                d.flat[k] = u
                yield f"[{tuple(int(j) for j in np.unravel_index(k, x.shape))}]{'·i' if u == 1j else ''}", d
    else:
        for k in range(3):
            d = rng.standard_normal(x.shape) + (1j * rng.standard_normal(x.shape) if complex_ else 0)
            yield f"random direction {k}", d


def _directional(grad, d):
    """⟨grad, d⟩ in the real inner product that matches the gradient convention."""
    return float(np.real(np.sum(np.conj(np.asarray(grad, np.complex128)) * d)))


def check_grads(f, *args, modes=("reverse", "forward"), order=1, eps=None, atol=None,
                rtol=None, seed=0):
    """Check every mode of differentiation of ``f`` at ``args`` against central finite
    differences, up to ``order``. Raises AssertionError reporting the worst mismatch."""
    from . import api

    rng = np.random.default_rng(seed)
    problem = _Problem(f, args, rng)
    for mode in modes:
        if mode == "reverse":
            _, back = api.pullback(f, *args)
            out_def = flatten(f(*args))[1]
            grads = flatten(back(unflatten(out_def, problem.v)))[0]
        elif mode == "forward":
            grads = None  # forward mode is checked direction by direction below
        else:
            raise ValueError(f"unknown mode {mode!r}")
        _compare(problem, mode, grads, rng, eps, atol, rtol, f, args)
    if order > 1:
        w = None

        def grad_pairing(*a):
            nonlocal w
            _, back = api.pullback(f, *a)
            out_def = flatten(f(*a))[1]
            g = [x for x in flatten(back(unflatten(out_def, problem.v)))[0]]
            g = [x for x, leaf in zip(g, problem.leaves) if is_differentiable(leaf)]
            if w is None:
                w = [_random_like(x, rng) for x in g]
            return sum(np.real(np.sum(np.conj(wi) * gi)) for wi, gi in zip(w, g))

        check_grads(grad_pairing, *args, modes=modes, order=order - 1, eps=eps, atol=atol,
                    rtol=rtol, seed=seed + 1)


def _compare(problem, mode, grads, rng, eps, atol, rtol, f, args):
    from . import forward_api

    worst = None
    for i in problem.diff:
        x = problem.leaves[i]
        dtype = np.result_type(primal(x))
        a_tol, r_tol = _tolerance(dtype)
        a_tol = atol if atol is not None else a_tol
        r_tol = rtol if rtol is not None else r_tol
        step = eps if eps is not None else (1e-3 if dtype in (np.float32, np.complex64) else 1e-6)
        if mode == "reverse":
            g = grads[i]
            _check_type(g, x, i)
        for where, d in _directions(x, rng):
            numeric = problem.finite_difference(i, d, step)
            if mode == "reverse":
                analytic = _directional(g, d)
            else:
                tangents = [np.zeros_like(np.asarray(primal(t))) if is_differentiable(t) else None
                            for t in problem.leaves]
                tangents[i] = d.astype(dtype) if np.ndim(d) else dtype.type(d)
                tdef = problem.treedef
                _, dy = forward_api.jvp(f, tuple(args), tuple(unflatten(tdef, tangents)))
                analytic = _pairing(dy, problem.v)
            error = abs(analytic - numeric)
            bound = a_tol + r_tol * abs(numeric)
            if worst is None or error - bound > worst[0]:
                worst = (error - bound, i, where, analytic, numeric, error)
    if worst is not None and worst[0] > 0:
        _, i, where, analytic, numeric, error = worst
        raise AssertionError(
            f"{mode}-mode derivative disagrees with central finite differences: argument "
            f"leaf {i}, coordinate {where}: AD gives {analytic:.10g}, finite differences "
            f"{numeric:.10g} (|error| {error:.3g})."
        )


def _check_type(g, x, i):
    px = primal(x)
    if isinstance(px, np.ndarray):
        if not isinstance(g, np.ndarray) or g.shape != px.shape or g.dtype != px.dtype:
            raise AssertionError(
                f"gradient of argument leaf {i} should be an array of shape {px.shape} and "
                f"dtype {px.dtype}, got {type(g).__name__} "
                f"{getattr(g, 'shape', '')} {getattr(g, 'dtype', '')}"
            )
    elif type(px) is float and type(g) is not float:
        raise AssertionError(f"gradient of float argument leaf {i} is {type(g).__name__}")


def check_rrule(fn, *args, **kwargs):
    """Check ``fn``'s reverse rule against finite differences."""
    check_grads(lambda *a: fn(*a, **kwargs), *args, modes=("reverse",))


def check_frule(fn, *args, **kwargs):
    """Check ``fn``'s forward rule against finite differences."""
    check_grads(lambda *a: fn(*a, **kwargs), *args, modes=("forward",))
