"""First-order optimizers: ``SGD`` (with momentum) and ``Adam``, for trees and for Params.

Two ways to use one optimizer, as JAX's optax and Flux's ``Optimisers`` do:

- **functional, for trees** (a list, dict, dataclass, ... of arrays): ``state = opt.init(params)``
  once, then ``params, state = opt.step(params, grads, state)``; nothing is modified, the state
  is a tree of arrays with the structure of ``params`` (save it, copy it, vmap over it).
- **in place, for ``wg.Params``**: ``opt.step(ps, gs)`` with the ``wg.Grads`` of
  ``wg.gradient(loss, ps)`` updates each parameter array in place (``p -= ...``), so models
  that hold the arrays see the new values; the state lives in the optimizer, per array.

Only floating-point leaves are updated; integers, flags and strings pass through unchanged.
"""
import numpy as np

from .errors import DifferentiationError
from .params import Grads, Params
from .tree import flatten, is_differentiable, unflatten

__all__ = ["SGD", "Adam"]


class _Optimizer:
    """The two ways to step (see the module docstring). A subclass names its per-parameter
    running quantities (``moments``: Adam's ``m`` and ``v``) and gives the update rule
    ``_update(g, moments, count) -> (change, moments)``; ``p -= change``."""

    moments = ()

    def __init__(self):
        self._by_identity = {}   # id(p) -> (p, moments), for the in-place form
        self._count = 0

    def init(self, params):
        """The initial state for a tree of parameters: the step count and, per running
        quantity, a tree like ``params`` (zeros at trained leaves, None elsewhere)."""
        leaves, treedef = flatten(params)
        state = {"count": 0}
        for name in self.moments:
            state[name] = unflatten(treedef, [self._zeros(p) if _trained(p) else None
                                              for p in leaves])
        return state

    def step(self, params, grads, state=None):
        """One step. For a tree: returns ``(new_params, new_state)``. For ``wg.Params`` with its
        ``wg.Grads``: updates the arrays in place and returns ``params``."""
        if isinstance(params, Params) or isinstance(grads, Grads):
            return self._step_in_place(params, grads)
        if state is None:
            raise DifferentiationError(
                f"{type(self).__name__}.step(params, grads, state) needs the state of "
                "opt.init(params) for a tree of parameters (only wg.Params keep their state "
                "in the optimizer).")
        leaves, treedef = flatten(params)
        grad_leaves = _leaves_like(grads, len(leaves), "gradients", "wg.gradient(loss, params)[0]")
        moment_leaves = [_leaves_like(state[name], len(leaves), "optimizer state",
                                      "opt.init(params)") for name in self.moments]
        count = state["count"] + 1
        new_leaves = list(leaves)
        for i, (p, g) in enumerate(zip(leaves, grad_leaves)):
            if not _trained(p) or g is None:
                continue
            moments = tuple(m[i] for m in moment_leaves)
            change, moments = self._update(_gradient_of(p, g), moments, count)
            new_leaves[i] = _like(p, p - change)
            for m, value in zip(moment_leaves, moments):
                m[i] = value
        new_state = {"count": count}
        for name, m in zip(self.moments, moment_leaves):
            new_state[name] = unflatten(treedef, m)
        return unflatten(treedef, new_leaves), new_state

    def _step_in_place(self, ps, gs):
        if not isinstance(ps, Params) or not isinstance(gs, Grads):
            raise DifferentiationError(
                f"{type(self).__name__}.step(ps, gs) in place takes wg.Params and the wg.Grads "
                "of wg.gradient(loss, ps); for a tree of arrays use "
                "params, state = opt.step(params, grads, state).")
        self._count += 1
        for p in ps:
            g = gs[p]
            if g is None:
                continue
            entry = self._by_identity.get(id(p))
            moments = entry[1] if entry is not None and entry[0] is p else tuple(
                self._zeros(p) for _ in self.moments)
            change, moments = self._update(_gradient_of(p, g), moments, self._count)
            p -= change
            self._by_identity[id(p)] = (p, moments)   # p is held: its id stays its own
        return ps

    @staticmethod
    def _zeros(p):
        return np.zeros_like(p)


class SGD(_Optimizer):
    """Stochastic gradient descent: ``v = momentum·v + g; p -= lr·v`` (plain ``p -= lr·g``
    when ``momentum`` is 0)."""

    def __init__(self, lr, momentum=0.0):
        super().__init__()
        self.lr = lr
        self.momentum = momentum
        self.moments = ("velocity",) if momentum else ()

    def _update(self, g, moments, count):
        if not self.momentum:
            return self.lr * g, moments
        velocity = self.momentum * moments[0] + g
        return self.lr * velocity, (velocity,)


class Adam(_Optimizer):
    """Adam (Kingma & Ba): running means of the gradient and of its square, bias-corrected,
    ``p -= lr · m̂ / (√v̂ + eps)``."""

    moments = ("m", "v")

    def __init__(self, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        super().__init__()
        self.lr = lr
        self.b1 = b1
        self.b2 = b2
        self.eps = eps

    def _update(self, g, moments, count):
        m, v = moments
        m = self.b1 * m + (1 - self.b1) * g
        v = self.b2 * v + (1 - self.b2) * np.real(g * np.conj(g))   # |g|², real for complex p
        m_hat = m / (1 - self.b1 ** count)
        v_hat = v / (1 - self.b2 ** count)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps), (m, v)


def _trained(p):
    return is_differentiable(p) and np.result_type(p).kind in "fc"


def _like(p, new):
    """The new value of a leaf, of the leaf's kind: a float stays a float."""
    if type(p) is float or type(p) is complex:
        return type(p)(new)
    return np.asarray(new, dtype=np.result_type(p)) if isinstance(p, np.ndarray) else new


def _gradient_of(p, g):
    """The gradient as an array of the parameter's dtype (a float32 model stays float32)."""
    return np.asarray(g, dtype=np.result_type(p))


def _leaves_like(tree, count, what, make_it):
    leaves = flatten(tree)[0]
    if len(leaves) != count:
        raise DifferentiationError(
            f"The {what} do not match the parameters: {count} leaves expected, "
            f"{len(leaves)} given. Use {make_it} for this tree.")
    return leaves

