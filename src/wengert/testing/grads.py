"""``check_grads``: every mode of AD against central finite differences, to any order."""
import numpy as np

from .. import api
from ..tree import flatten, is_differentiable
from ._problem import _Problem, _against_finite_differences, _leaf_names, _random_like

def check_grads(f, *args, modes=("reverse", "forward"), order=1, eps=None, atol=None,
                rtol=None, seed=0):
    """Check every mode of differentiation of ``f`` at ``args`` against central finite
    differences, up to ``order``.

    ``f`` may return any shape: it is paired with a random cotangent ``v``,
    ``L(x) = Re⟨v, f(x)⟩``, whose gradient (reverse mode) or directional derivatives (forward
    mode) are compared with central differences of ``L`` in float64 — per coordinate for
    arguments of up to 40 entries, along random directions for larger ones. Complex
    arguments are checked in their real and imaginary parts. With ``order`` 2 or more the
    gradient of ⟨w, ∇L⟩ is checked the same way, in each mode, recursively.

    Parameters
    ----------
    f : callable
        The function to check.
    *args
        The point: arrays, numbers, or trees of them; leaves with no tangent are held fixed.
    modes : tuple of str
        ``"reverse"`` and/or ``"forward"``.
    order : int
        The highest order of derivative to check.
    eps : float, optional
        The finite-difference step (by default chosen per argument).
    atol, rtol : float, optional
        Tolerances; by default they follow each argument's precision (float32 is looser).
    seed : int
        Seeds the random cotangents and directions.

    Raises
    ------
    AssertionError
        Naming the mode, the argument (by parameter name and path into trees) and the
        coordinate of the worst mismatch, with the number of disagreeing checks.
    ValueError
        For an unknown mode.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> wg.testing.check_grads(lambda x: np.sin(x) * x[0], np.array([0.5, 1.0]), order=2)
    """
    rng = np.random.default_rng(seed)
    problem = _Problem(f, args, rng, _leaf_names(f, args))
    for mode in modes:
        if mode not in ("reverse", "forward"):
            raise ValueError(f"unknown mode {mode!r}")
        failure = _against_finite_differences(problem, mode, rng, eps, atol, rtol)
        if failure:
            raise AssertionError(
                f"{mode}-mode derivative disagrees with central finite differences: {failure}")
    if order > 1:
        _check_higher_order(f, args, problem, modes, order, eps, atol, rtol, seed, rng)


def _check_higher_order(f, args, problem, modes, order, eps, atol, rtol, seed, rng):
    w = None

    def grad_pairing(*a):
        nonlocal w
        _, back = api.pullback(f, *a)
        g = flatten(back(problem.cotangent()))[0]
        g = [x for x, leaf in zip(g, problem.leaves) if is_differentiable(leaf)]
        if w is None:
            w = [_random_like(x, rng) for x in g]
        return sum(np.real(np.sum(np.conj(wi) * gi)) for wi, gi in zip(w, g))

    check_grads(grad_pairing, *args, modes=modes, order=order - 1, eps=eps, atol=atol,
                rtol=rtol, seed=seed + 1)
