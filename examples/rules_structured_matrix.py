"""A structured matrix type: AD through its own code, then the same type with a rule.

LowRank stores A = U Vᵀ (n×n, rank r) as its two n×r factors and multiplies in O(n·r).
wengert never captures a type it does not know: ``A @ b`` runs LowRank's own ``__matmul__``
and ``b @ A`` its ``__rmatmul__`` (the tracers hand such operands back to Python), so AD
sees only the O(n·r) operations inside — no n×n matrix exists at any point, not even for
the gradient. Part 1 measures that with tracemalloc at n = 60000 (a dense A would be 28.8 GB).

Part 2 gives the same type's products a rule. ``wg.primitive`` makes each product one step
for AD (``self`` is an ordinary argument whose fields are followed), and its rule hands the
work to AD of a specialized function: ``return wg.pullback(factored_matvec, A, b)``. The
cotangent for A comes back as a LowRank of the factors' cotangents.

Run: PYTHONPATH=src python3 examples/rules_structured_matrix.py
"""
import dataclasses
import tracemalloc

import numpy as np

import wengert as wg


@dataclasses.dataclass
class LowRank:                       # A = U @ V.T
    U: np.ndarray
    V: np.ndarray

    def __matmul__(self, b):
        return self.U @ (self.V.T @ b)

    def __rmatmul__(self, b):
        return (b @ self.U) @ self.V.T


def objective(U, V, b, matrix=LowRank):
    return np.sum((matrix(U, V) @ b) ** 2) + np.sum(b @ matrix(U, V))


def gradient_by_hand(U, V, b):
    """The same gradient derived by hand, for the check (also O(n·r))."""
    w = V.T @ b
    z = U @ w
    Utz = U.T @ z
    Vt1 = np.sum(V, axis=0)
    Utb = U.T @ b
    dU = 2 * np.outer(z, w) + np.outer(b, Vt1)
    dV = 2 * np.outer(b, Utz) + np.outer(np.ones_like(b), Utb)
    db = 2 * V @ Utz + U @ Vt1
    return dU, dV, db


def assert_close(got, want):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9 * np.max(np.abs(w)))


# ---------------------------------------------------------------------------------------------
# Part 2: the same type, with rules for its products
# ---------------------------------------------------------------------------------------------

class LowRankWithRule(LowRank):
    """LowRank whose products are wg.primitive steps (their bodies are LowRank's own)."""

    __matmul__ = wg.primitive(LowRank.__matmul__)
    __rmatmul__ = wg.primitive(LowRank.__rmatmul__)


def factored_matvec(A, b):
    """A specialized A @ b: one contraction over the factors, in the cheap order."""
    return np.einsum("ir,jr,j->i", A.U, A.V, b, optimize=True)


def factored_vecmat(A, b):
    return np.einsum("i,ir,jr->j", b, A.U, A.V, optimize=True)


rule_calls = []


@wg.rrule(LowRankWithRule.__matmul__)
def lowrank_matmul_rrule(A, b):
    rule_calls.append("A @ b")
    return wg.pullback(factored_matvec, A, b)      # (value, back): back gives (dA, db)


@wg.rrule(LowRankWithRule.__rmatmul__)
def lowrank_rmatmul_rrule(A, b):
    rule_calls.append("b @ A")
    value, back = wg.pullback(factored_vecmat, A, b)
    return value, back


@wg.frule(LowRankWithRule.__matmul__)
def lowrank_matmul_frule(dA, db, A, b):
    return wg.jvp(factored_matvec, (A, b), (dA, db))


@wg.frule(LowRankWithRule.__rmatmul__)
def lowrank_rmatmul_frule(dA, db, A, b):
    return wg.jvp(factored_vecmat, (A, b), (dA, db))


def peak_bytes(f, *args):
    tracemalloc.start()
    try:
        result = f(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main():
    n, r = 60_000, 3
    rng = np.random.default_rng(0)
    U, V = rng.standard_normal((n, r)), rng.standard_normal((n, r))
    b = rng.standard_normal(n)
    dense_bytes = n * n * 8

    # Part 1: AD through LowRank's own code.
    grads, peak = peak_bytes(wg.gradient, objective, U, V, b)
    print(f"part 1, AD through LowRank's own code: peak {peak / 1e6:.1f} MB "
          f"(a dense {n}x{n} matrix would be {dense_bytes / 1e9:.1f} GB)")
    assert peak < dense_bytes / 1000, "no n×n matrix may be formed"
    assert_close(grads, gradient_by_hand(U, V, b))

    # Part 2: the rules, which hand their work to AD of the specialized functions.
    rule_grads, peak = peak_bytes(
        wg.gradient, lambda U, V, b: objective(U, V, b, LowRankWithRule), U, V, b)
    print(f"part 2, rules through wg.pullback of einsum: peak {peak / 1e6:.1f} MB, "
          f"rules used: {rule_calls}")
    assert rule_calls == ["A @ b", "b @ A"]
    assert peak < dense_bytes / 1000
    assert_close(rule_grads, grads)

    # The gradient with respect to the matrix object itself is a LowRank of cotangents.
    A = LowRankWithRule(U[:50], V[:50])
    dA, db = wg.gradient(lambda A, b: np.sum(np.sin(A @ b)), A, b[:50])
    print(f"gradient with respect to A is a {type(dA).__name__} with fields of shape "
          f"{dA.U.shape} and {dA.V.shape}")
    assert type(dA) is LowRankWithRule

    # Both rules agree with finite differences and with AD through LowRank's own bodies.
    for product in (LowRankWithRule.__matmul__, LowRankWithRule.__rmatmul__):
        wg.testing.check_rrule(product, LowRankWithRule(U[:8], V[:8]), b[:8])
        wg.testing.check_frule(product, LowRankWithRule(U[:8], V[:8]), b[:8])
    print("check_rrule and check_frule of both products: passed")


if __name__ == "__main__":
    main()
