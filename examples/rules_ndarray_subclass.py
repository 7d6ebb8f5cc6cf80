"""An ndarray subclass with its own np.matmul: the generic rule versus wg.opt_out.

Diagonal stores a diagonal matrix densely (it is an ordinary n×n array) but its
``__array_ufunc__`` computes ``D @ b`` as ``diag(D) * b``: O(n) work, reading only the
diagonal. Differentiating ``sum(sin(D @ b))`` with respect to D:

* The library's generic rule for np.matmul sees a matrix times a vector and returns the
  gradient of a *dense* product, ct ⊗ b: every entry nonzero, although the off-diagonal
  entries are never read. Finite differences of the code that actually runs disagree.
* ``wg.opt_out(np.matmul, Diagonal)`` removes the rule for Diagonal left operands: AD runs
  Diagonal's own ``__array_ufunc__`` on the tracers and differentiates its inner operations
  (np.diagonal, multiply), so the gradient is diagonal — the structured one.

Run: PYTHONPATH=src python3 examples/rules_ndarray_subclass.py
"""
import numpy as np

import wengert as wg


class Diagonal(np.ndarray):
    """A diagonal matrix stored densely, with a specialized matrix product."""

    @classmethod
    def from_diagonal(cls, d):
        return np.diag(d).view(cls)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # ``self`` is a Diagonal, or under wg.opt_out the tracer standing for one.
        if ufunc is np.matmul and method == "__call__" and inputs[0] is self:
            d = np.diagonal(self)
            b = inputs[1]
            return d * b if np.ndim(b) == 1 else d[:, None] * b
        # Everything else: the plain ndarray operation, on plain views of Diagonals.
        plain = [x.view(np.ndarray) if isinstance(x, Diagonal) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def loss(D, b):
    return np.sum(np.sin(D @ b))


def main():
    d = np.array([1.0, 2.0, -0.5, 3.0])
    b = np.array([0.3, -1.0, 2.0, 0.7])
    D = Diagonal.from_diagonal(d)
    structured = np.diag(np.cos(d * b) * b)      # the gradient of the code that runs

    # 1. The generic rule: a dense gradient, which finite differences do not confirm.
    dense, db = wg.gradient(loss, D, b)
    print("generic np.matmul rule, gradient with respect to D:")
    print(np.asarray(dense).round(3))
    np.testing.assert_allclose(dense, np.outer(np.cos(d * b), b))
    assert np.count_nonzero(dense) == dense.size
    try:
        wg.testing.check_grads(loss, D, b, modes=("reverse",))
    except AssertionError as error:
        print("check_grads catches it:", str(error).splitlines()[0])
    else:
        raise AssertionError("the dense gradient should disagree with finite differences")

    # 2. Opt out: AD goes through Diagonal's own __array_ufunc__ for Diagonal left operands.
    wg.opt_out(np.matmul, Diagonal)
    grad_D, grad_b = wg.gradient(loss, D, b)
    print("with wg.opt_out(np.matmul, Diagonal), gradient with respect to D:")
    print(np.asarray(grad_D).round(3))
    assert type(grad_D) is Diagonal                     # the gradient keeps the input's type
    np.testing.assert_allclose(grad_D, structured)
    np.testing.assert_allclose(grad_b, db)              # b's gradient is the same either way
    wg.testing.check_grads(loss, D, b)                  # both modes agree with FD now

    # Forward mode too: a tangent on the off-diagonal entries changes nothing.
    off_diagonal = np.ones((4, 4)) - np.eye(4)
    _, dy = wg.jvp(lambda D: D @ b, (D,), (off_diagonal,))
    print("forward mode, tangent on the off-diagonal entries only: d(D @ b) =", dy)
    np.testing.assert_allclose(dy, 0.0)


if __name__ == "__main__":
    main()
