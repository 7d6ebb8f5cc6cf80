"""A hand-written rule for a scalar function of a matrix, chained through nested parameters.

The negative log marginal likelihood of a Gaussian process,

    nll(K, y) = ½ yᵀK⁻¹y + ½ log det K + ½ n log 2π,

is one step for AD (a wg.primitive). Its reverse rule factors K once (Cholesky) and its
pullback returns the whole matrix cotangent ½ (K⁻¹ − ααᵀ) with α = K⁻¹y, derived by hand;
its forward rule gives ½ tr(K⁻¹ dK) − ½ αᵀ dK α + αᵀ dy. K itself is built from a dict of
hyperparameters, so the gradient comes back as a dict of the same shape: AD carries the
matrix cotangent from the rule back through the kernel's construction.

Run: PYTHONPATH=src python3 examples/rules_scalar_of_matrix.py
"""
import numpy as np

import wengert as wg


@wg.primitive
def nll(K, y):
    """Plain NumPy: what AD would go through if nll had no rule."""
    alpha = np.linalg.solve(K, y)
    log_det = np.linalg.slogdet(K)[1]
    return 0.5 * (y @ alpha) + 0.5 * log_det + 0.5 * len(y) * np.log(2 * np.pi)


def cholesky_solve(L, b):
    """K⁻¹b from the Cholesky factor L of K (two triangular solves)."""
    return np.linalg.solve(np.swapaxes(L, -1, -2), np.linalg.solve(L, b))


rule_calls = {"reverse": 0, "forward": 0}


@wg.rrule(nll)
def nll_rrule(K, y):
    rule_calls["reverse"] += 1
    L = np.linalg.cholesky(K)
    alpha = cholesky_solve(L, y)
    value = 0.5 * (y @ alpha) + np.sum(np.log(np.diagonal(L))) + 0.5 * len(y) * np.log(2 * np.pi)

    def nll_pullback(dvalue):
        # Not a Jacobian product written out: it reuses the factor L from the forward pass.
        K_inv = cholesky_solve(L, np.eye(len(y), dtype=L.dtype))
        dK = 0.5 * dvalue * (K_inv - np.outer(alpha, alpha))
        dy = dvalue * alpha
        return dK, dy

    return value, nll_pullback


@wg.frule(nll)
def nll_frule(dK, dy, K, y):
    # Tangents come first, one per positional argument; an untraced one is wg.Zero().
    rule_calls["forward"] += 1
    L = np.linalg.cholesky(K)
    alpha = cholesky_solve(L, y)
    value = 0.5 * (y @ alpha) + np.sum(np.log(np.diagonal(L))) + 0.5 * len(y) * np.log(2 * np.pi)
    dvalue = 0.0
    if not isinstance(dK, wg.Zero):
        K_inv = cholesky_solve(L, np.eye(len(y), dtype=L.dtype))
        dvalue = dvalue + 0.5 * np.sum(K_inv * dK) - 0.5 * (alpha @ dK @ alpha)
    if not isinstance(dy, wg.Zero):
        dvalue = dvalue + alpha @ dy
    return value, dvalue


def kernel_matrix(params, x):
    """A squared-exponential kernel plus noise, from nested hyperparameters."""
    kernel = params["kernel"]
    sq_dist = (x[:, None] - x[None, :]) ** 2
    K = kernel["variance"] * np.exp(-0.5 * sq_dist / kernel["lengthscale"] ** 2)
    return K + params["noise"] * np.eye(len(x))


def loss(params, x, y):
    return nll(kernel_matrix(params, x), y)


def loss_without_rule(params, x, y):
    # nll.__wrapped__ is the undecorated body: AD goes through solve and slogdet instead.
    return nll.__wrapped__(kernel_matrix(params, x), y)


def main():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-3, 3, 12))
    y = np.sin(x) + 0.1 * rng.standard_normal(12)
    params = {"kernel": {"lengthscale": 0.8, "variance": 1.5}, "noise": 0.1}

    value, (grads, _, dy) = wg.withgradient(loss, params, x, y)
    print(f"nll = {value:.6f}")
    print("gradient (a dict shaped like the parameters):", grads)
    assert rule_calls["reverse"] == 1, "the rule, not the body, was differentiated"

    # The same numbers by AD through the body, and by central finite differences.
    expected, _, expected_dy = wg.gradient(loss_without_rule, params, x, y)
    for name, got, want in [
        ("lengthscale", grads["kernel"]["lengthscale"], expected["kernel"]["lengthscale"]),
        ("variance", grads["kernel"]["variance"], expected["kernel"]["variance"]),
        ("noise", grads["noise"], expected["noise"]),
    ]:
        print(f"  d nll / d {name:<11} rule {got: .10f}   AD through the body {want: .10f}")
        assert abs(got - want) < 1e-8 * max(1.0, abs(want))
    np.testing.assert_allclose(dy, expected_dy, rtol=1e-9, atol=1e-12)
    wg.testing.check_grads(loss, params, x, y)          # reverse and forward, against FD

    # The rules themselves, against finite differences and AD through nll's body.
    K = kernel_matrix(params, x)
    wg.testing.check_rrule(nll, K, y)
    wg.testing.check_frule(nll, K, y)
    print("check_rrule and check_frule of nll: passed")

    # Forward mode: one directional derivative along the lengthscale, through the frule.
    before = rule_calls["forward"]
    along_lengthscale = wg.partial(lambda ls: loss(
        {"kernel": {"lengthscale": ls, "variance": 1.5}, "noise": 0.1}, x, y), 0.8)
    print(f"d nll / d lengthscale by forward mode: {along_lengthscale:.10f}")
    assert rule_calls["forward"] == before + 1
    assert abs(along_lengthscale - grads["kernel"]["lengthscale"]) < 1e-8


if __name__ == "__main__":
    main()
