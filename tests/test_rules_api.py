"""The user-facing rule system: primitive, rrule, frule (with argument types), opt_out,
non_differentiable, stop_gradient, checkpoint; foreign types are never captured."""
import dataclasses
import tracemalloc

import numpy as np
import pytest

import wengert as wg
from wengert.registry import reverse_rules
from wengert.testing import check_grads

BOTH = ("reverse", "forward")


class Sub(np.ndarray):
    """A plain ndarray subclass (no overrides of its own)."""


class SubSub(Sub):
    pass


class Other(np.ndarray):
    pass


def counting_rrule(fn, calls, tag, derivative):
    """A reverse rule for elementwise ``fn`` that records ``tag`` in ``calls`` when used."""
    def rule(x):
        calls.append(tag)
        return fn(x), lambda ct: (ct * derivative(x),)

    rule.__qualname__ = f"rule_{tag}"
    return rule


# ---------------------------------------------------------------------------------------------
# wg.primitive on functions and methods
# ---------------------------------------------------------------------------------------------

@wg.primitive
def cube(x):
    return x ** 3


def test_primitive_uses_its_rule_in_both_modes():
    calls = []

    @wg.rrule(cube)
    def cube_rrule(x):
        calls.append("reverse")
        return cube(x), lambda ct: (ct * 3 * x ** 2,)

    @wg.frule(cube)
    def cube_frule(dx, x):
        calls.append("forward")
        return cube(x), 3 * x ** 2 * dx

    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(wg.gradient(lambda x: np.sum(cube(x)), x)[0], 3 * x ** 2)
    np.testing.assert_allclose(wg.jvp(cube, (x,), (np.ones(3),))[1], 3 * x ** 2)
    assert calls == ["reverse", "forward"]
    check_grads(lambda x: cube(x), x, modes=BOTH, order=2)


def test_primitive_without_rules_is_differentiated_through_its_body():
    @wg.primitive
    def softplus(x):
        return np.log1p(np.exp(x))

    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(wg.gradient(lambda x: np.sum(softplus(x)), x)[0],
                               1 / (1 + np.exp(-x)))
    check_grads(softplus, x, modes=BOTH, order=2)


@dataclasses.dataclass
class Quadratic:
    """½ xᵀAx + c·Σx, with its evaluation a primitive method."""
    A: np.ndarray
    c: float

    @wg.primitive
    def energy(self, x):
        return 0.5 * (x @ self.A @ x) + self.c * np.sum(x)


def quadratic_gradients(q, x, ct=1.0):
    """(dq, dx) by hand."""
    return (Quadratic(ct * 0.5 * np.outer(x, x), ct * float(np.sum(x))),
            ct * (0.5 * (q.A + q.A.T) @ x + q.c))


A0 = np.array([[2.0, 1.0], [0.5, 3.0]])
X0 = np.array([1.0, -2.0])


def test_primitive_method_binds_self_as_an_ordinary_argument():
    seen = []

    @wg.rrule(Quadratic.energy)
    def energy_rrule(q, x):
        seen.append((type(q), type(q.A), type(x)))
        dq, dx = quadratic_gradients(q, x)
        return q.energy(x), lambda ct: (Quadratic(ct * dq.A, ct * dq.c), ct * dx)

    q = Quadratic(A0, 0.5)
    dq, dx = wg.gradient(lambda q, x: q.energy(x), q, X0)
    # The rule saw the dataclass with its fields' values, not tracers.
    assert seen == [(Quadratic, np.ndarray, np.ndarray)]
    assert type(dq) is Quadratic and type(dq.c) is float
    want_q, want_x = quadratic_gradients(q, X0)
    np.testing.assert_allclose(dq.A, want_q.A)
    assert dq.c == pytest.approx(want_q.c)
    np.testing.assert_allclose(dx, want_x)


def test_tracers_inside_self_are_followed_when_the_object_is_built_inside():
    # The dataclass is built from traced arrays inside f: its fields are tracers.
    @wg.rrule(Quadratic.energy)
    def energy_rrule(q, x):
        dq, dx = quadratic_gradients(q, x)
        return q.energy(x), lambda ct: (wg.Tangent(Quadratic, A=ct * dq.A, c=ct * dq.c),
                                        ct * dx)

    dA, dc, dx = wg.gradient(lambda A, c, x: Quadratic(A, c).energy(x), A0, 0.5, X0)
    want_q, want_x = quadratic_gradients(Quadratic(A0, 0.5), X0)
    np.testing.assert_allclose(dA, want_q.A)
    assert dc == pytest.approx(want_q.c)
    np.testing.assert_allclose(dx, want_x)
    check_grads(lambda A, c, x: Quadratic(A, c).energy(x), A0, 0.5, X0, modes=BOTH)


def test_a_rule_may_return_a_partial_tangent_for_self():
    # wg.Tangent with a field left out: that field's cotangent is zero.
    @wg.rrule(Quadratic.energy)
    def energy_rrule(q, x):
        return q.energy(x), lambda ct: (wg.Tangent(Quadratic, A=ct * np.ones((2, 2))),
                                        wg.Zero())

    dq, dx = wg.gradient(lambda q, x: q.energy(x), Quadratic(A0, 0.5), X0)
    np.testing.assert_allclose(dq.A, np.ones((2, 2)))
    assert dq.c == 0.0
    np.testing.assert_allclose(dx, 0.0)


def test_forward_rule_of_a_method_gets_a_structured_tangent_for_self():
    seen = []

    @wg.frule(Quadratic.energy)
    def energy_frule(dq, dx, q, x):
        seen.append((type(dq), dq.c is wg.Zero(), dx))
        _, grad_x = quadratic_gradients(q, x)
        # wg.Zero() tangents take part in the arithmetic and vanish from it.
        return q.energy(x), 0.5 * (x @ dq.A @ x) + dq.c * np.sum(x) + grad_x @ dx

    q = Quadratic(A0, 0.5)
    dA = np.array([[0.0, 1.0], [0.0, 0.0]])
    # Only A has a tangent: c's tangent arrives as wg.Zero(), x's too.
    _, dy = wg.jvp(lambda A: Quadratic(A, 0.5).energy(X0), (A0,), (dA,))
    assert seen[-1][:2] == (Quadratic, True) and seen[-1][2] is wg.Zero()
    assert dy == pytest.approx(0.5 * X0[0] * X0[1])
    check_grads(lambda q, x: q.energy(x), q, X0, modes=("forward",))


# ---------------------------------------------------------------------------------------------
# Rules for argument types: most specific wins, ties are errors, caching
# ---------------------------------------------------------------------------------------------

@wg.primitive
def twice(x):
    return 2 * x


@pytest.mark.parametrize("cls, expected", [
    (np.ndarray, "generic"), (Sub, "Sub"), (SubSub, "SubSub"), (Other, "generic"),
])
def test_most_specific_signature_wins(cls, expected):
    calls = []
    wg.rrule(twice)(counting_rrule(twice, calls, "generic", lambda x: 2.0))
    wg.rrule(twice, Sub)(counting_rrule(twice, calls, "Sub", lambda x: 2.0))
    wg.rrule(twice, SubSub)(counting_rrule(twice, calls, "SubSub", lambda x: 2.0))
    (g,) = wg.gradient(lambda x: np.sum(twice(x)), np.ones(3).view(cls))
    assert calls == [expected]
    np.testing.assert_allclose(g, 2.0)


def test_rules_for_a_numpy_ufunc_by_type_in_both_modes():
    calls = []
    wg.rrule(np.exp, Sub)(counting_rrule(np.exp, calls, "reverse Sub", np.exp))

    @wg.frule(np.exp, Sub)
    def exp_frule(dx, x):
        calls.append("forward Sub")
        return np.exp(x), np.exp(x) * dx

    x = np.array([0.1, 0.2])
    check_grads(lambda x: np.exp(x), x.view(Sub), modes=BOTH)
    assert "reverse Sub" in calls and "forward Sub" in calls
    calls.clear()
    check_grads(lambda x: np.exp(x), x, modes=BOTH)       # plain arrays: the library's rules
    assert calls == []


def test_user_rule_for_matmul_on_a_subclass_wins_over_the_library_rule():
    calls = []

    @wg.rrule(np.matmul, Sub)
    def sub_matmul_rrule(A, b):
        calls.append("Sub")
        # A deliberately different (structured) cotangent for A: its diagonal part only.
        return A @ b, lambda ct: (np.diag(np.diag(np.outer(ct, b))), A.T @ ct)

    A = np.arange(1.0, 5.0).reshape(2, 2)
    b = np.array([1.0, -1.0])
    dA, db = wg.gradient(lambda A, b: np.sum(A @ b), A.view(Sub), b)
    assert calls == ["Sub"]
    np.testing.assert_allclose(dA, np.diag([1.0, -1.0]))
    np.testing.assert_allclose(db, A.T @ np.ones(2))
    # Plain arrays keep the library's rule (the full outer product).
    dA, _ = wg.gradient(lambda A, b: np.sum(A @ b), A, b)
    np.testing.assert_allclose(dA, np.outer(np.ones(2), b))
    assert calls == ["Sub"]
    # A constant Sub on the left, a traced vector on the right: still the rule for Sub.
    (db,) = wg.gradient(lambda b: np.sum(A.view(Sub) @ b), b)
    assert calls == ["Sub", "Sub"]


def test_a_tie_is_an_error_naming_both_rules():
    @wg.primitive
    def add(a, b):
        return a + b

    @wg.rrule(add, Sub, object)
    def add_rule_for_sub_first(a, b):
        return a + b, lambda ct: (ct, ct)

    @wg.rrule(add, object, Sub)
    def add_rule_for_sub_second(a, b):
        return a + b, lambda ct: (ct, ct)

    x = np.ones(2).view(Sub)
    with pytest.raises(wg.DifferentiationError) as info:
        wg.gradient(lambda a, b: np.sum(add(a, b)), x, x)
    message = str(info.value)
    assert "add_rule_for_sub_first" in message and "add_rule_for_sub_second" in message
    assert "(Sub)" in message and "(object, Sub)" in message and "test_rules_api.py" in message

    # A rule for the exact types settles the tie.
    @wg.rrule(add, Sub, Sub)
    def add_rule_for_both(a, b):
        return a + b, lambda ct: (2 * ct, 3 * ct)

    ga, gb = wg.gradient(lambda a, b: np.sum(add(a, b)), x, x)
    np.testing.assert_allclose(ga, 2.0)
    np.testing.assert_allclose(gb, 3.0)


def test_trailing_object_types_name_the_same_signature():
    calls = []
    wg.rrule(twice, Sub)(counting_rrule(twice, calls, "first", lambda x: 2.0))
    wg.rrule(twice, Sub, object)(counting_rrule(twice, calls, "second", lambda x: 2.0))
    wg.gradient(lambda x: np.sum(twice(x)), np.ones(2).view(Sub))
    assert calls == ["second"]        # a replacement, not a tie


def test_resolved_rules_are_cached_per_function_and_argument_types(monkeypatch):
    resolutions = []
    resolve = reverse_rules._resolve

    def counting_resolve(fn, entries, arg_types):
        resolutions.append((fn, arg_types))
        return resolve(fn, entries, arg_types)

    monkeypatch.setattr(reverse_rules, "_resolve", counting_resolve)
    calls = []
    wg.rrule(twice, Sub)(counting_rrule(twice, calls, "Sub", lambda x: 2.0))
    for _ in range(3):
        wg.gradient(lambda x: np.sum(twice(x)), np.ones(2).view(Sub))
        wg.gradient(lambda x: np.sum(twice(x)), np.ones(2))
    assert resolutions == [(twice, (Sub,)), (twice, (np.ndarray,))]
    assert calls == ["Sub"] * 3
    # Registering another rule clears the cache, so the new rule is found.
    wg.rrule(twice, SubSub)(counting_rrule(twice, calls, "SubSub", lambda x: 2.0))
    wg.gradient(lambda x: np.sum(twice(x)), np.ones(2).view(SubSub))
    assert calls[-1] == "SubSub"


# ---------------------------------------------------------------------------------------------
# What a pullback may return, and rules that hand their work to AD
# ---------------------------------------------------------------------------------------------

@wg.primitive
def solve_spd(K, b):
    """K⁻¹b for a symmetric positive definite K."""
    return np.linalg.solve(K, b)


def test_a_pullback_may_be_any_function_of_the_cotangent():
    factorizations = []

    @wg.rrule(solve_spd)
    def solve_spd_rrule(K, b):
        L = np.linalg.cholesky(K)
        factorizations.append(1)
        x = np.linalg.solve(L.T, np.linalg.solve(L, b))

        def solve_spd_pullback(ct):
            # The adjoint solve reuses the factor: no Jacobian is ever formed.
            w = np.linalg.solve(L.T, np.linalg.solve(L, ct))
            return -np.outer(w, x), w

        return x, solve_spd_pullback

    rng = np.random.default_rng(0)
    M = rng.standard_normal((4, 4))
    K = M @ M.T + 4 * np.eye(4)
    b = rng.standard_normal(4)
    y, back = wg.pullback(solve_spd, K, b)
    for _ in range(3):
        back(rng.standard_normal(4))
    assert factorizations == [1]            # back() was called three times, the rule once
    check_grads(solve_spd, K, b, modes=("reverse",))


@wg.primitive
def weighted_total(params, x, flag):
    return params["scale"] * np.sum(params["w"] * x) + (1.0 if flag else 0.0)


@pytest.mark.parametrize("kind", ["dense", "zero", "structured"])
def test_pullback_cotangent_kinds(kind):
    @wg.rrule(weighted_total)
    def weighted_total_rrule(params, x, flag):
        s, w = params["scale"], params["w"]

        def weighted_total_pullback(ct):
            dparams = {"scale": ct * np.sum(w * x), "w": ct * s * x}
            if kind == "zero":
                dparams = wg.Zero()
            elif kind == "structured":
                dparams = {"scale": dparams["scale"], "w": wg.Zero()}
            return dparams, ct * s * w, wg.NoTangent()

        return weighted_total(params, x, flag), weighted_total_pullback

    params = {"scale": 2.0, "w": np.array([1.0, -1.0, 0.5])}
    x = np.array([0.3, 0.2, 0.1])
    dparams, dx, dflag = wg.gradient(weighted_total, params, x, True)
    np.testing.assert_allclose(dx, 2.0 * params["w"])
    assert dflag is None
    assert set(dparams) == {"scale", "w"}
    want_scale = 0.0 if kind == "zero" else float(np.sum(params["w"] * x))
    want_w = 2.0 * x if kind == "dense" else np.zeros(3)
    assert dparams["scale"] == pytest.approx(want_scale)
    np.testing.assert_allclose(dparams["w"], want_w)


def softsign(x):
    return x / (1 + np.abs(x))


@wg.primitive
def stable_softsign(x):
    return softsign(x)


def test_a_rule_may_return_wg_pullback_and_wg_pushforward_of_another_function():
    used = []

    @wg.rrule(stable_softsign)
    def softsign_rrule(x):
        used.append("pullback")
        return wg.pullback(softsign, x)

    @wg.frule(stable_softsign)
    def softsign_frule(dx, x):
        used.append("pushforward")
        return softsign(x), wg.pushforward(softsign, x)(dx)

    x = np.array([-2.0, 0.5, 3.0])
    check_grads(stable_softsign, x, modes=BOTH, order=2)
    assert "pullback" in used and "pushforward" in used
    np.testing.assert_allclose(
        wg.gradient(lambda x: np.sum(stable_softsign(x)), x)[0], 1 / (1 + np.abs(x)) ** 2)


# ---------------------------------------------------------------------------------------------
# opt_out
# ---------------------------------------------------------------------------------------------

def test_opt_out_of_a_primitive_for_some_types_runs_its_body_for_them():
    calls = []
    wg.rrule(cube)(counting_rrule(cube, calls, "rule", lambda x: 3 * x ** 2))
    wg.opt_out(cube, Sub)
    x = np.array([1.0, 2.0])
    g_plain = wg.gradient(lambda x: np.sum(cube(x)), x)[0]
    assert calls == ["rule"]
    g_sub = wg.gradient(lambda x: np.sum(cube(x)), x.view(Sub))[0]
    assert calls == ["rule"]          # Sub went through the body
    np.testing.assert_allclose(g_plain, 3 * x ** 2)
    np.testing.assert_allclose(g_sub, 3 * x ** 2)
    check_grads(cube, x.view(Sub), modes=BOTH)
    # A more specific rule beats the opt-out, as any entry would.
    wg.rrule(cube, SubSub)(counting_rrule(cube, calls, "SubSub", lambda x: 3 * x ** 2))
    wg.gradient(lambda x: np.sum(cube(x)), x.view(SubSub))
    assert calls == ["rule", "SubSub"]


def test_opt_out_for_all_types():
    calls = []
    wg.rrule(cube)(counting_rrule(cube, calls, "rule", lambda x: 3 * x ** 2))
    wg.opt_out(cube)
    (g,) = wg.gradient(cube, 2.0)
    assert g == pytest.approx(12.0) and calls == []


class Diagonal(np.ndarray):
    """A diagonal matrix stored densely; ``D @ b`` multiplies by the diagonal."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul and method == "__call__" and inputs[0] is self:
            Diagonal.products += 1
            return np.diagonal(self) * inputs[1]
        plain = [x.view(np.ndarray) if isinstance(x, Diagonal) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.sum and args[0] is self and len(args) == 1 and not kwargs:
            # The sum of a diagonal matrix reads its diagonal only.
            return np.sum(np.diagonal(self))
        plain = [a.view(np.ndarray) if isinstance(a, Diagonal) else a for a in args]
        return func(*plain, **kwargs)

    products = 0


D0 = np.diag([1.0, 2.0, -0.5]).view(Diagonal)
B0 = np.array([0.3, -1.0, 2.0])


def test_opt_out_for_an_ndarray_subclass_runs_its_own_array_ufunc():
    loss = lambda D, b: np.sum(np.sin(D @ b))
    dense, db = wg.gradient(loss, D0, B0)
    d = np.diagonal(D0)
    np.testing.assert_allclose(dense, np.outer(np.cos(d * B0), B0))   # the generic rule
    wg.opt_out(np.matmul, Diagonal)
    before = Diagonal.products
    structured, db2 = wg.gradient(loss, D0, B0)
    assert Diagonal.products == before + 1       # its own __array_ufunc__, once, on tracers
    assert type(structured) is Diagonal
    np.testing.assert_allclose(structured, np.diag(np.cos(d * B0) * B0))
    np.testing.assert_allclose(db2, db)
    check_grads(loss, D0, B0, modes=BOTH)


def test_opt_out_for_an_ndarray_subclass_runs_its_own_array_function():
    (dense,) = wg.gradient(np.sum, D0)
    np.testing.assert_allclose(dense, np.ones((3, 3)))        # the generic rule for np.sum
    wg.opt_out(np.sum, Diagonal)
    (structured,) = wg.gradient(np.sum, D0)
    np.testing.assert_allclose(structured, np.eye(3))
    _, tangent = wg.jvp(np.sum, (D0,), (np.ones((3, 3)),))
    assert tangent == pytest.approx(3.0)


def test_opt_out_with_nothing_to_run_is_an_error_naming_the_function():
    wg.opt_out(np.matmul, Sub)
    with pytest.raises(wg.DifferentiationError, match=r"np\.matmul"):
        wg.gradient(lambda A: np.sum(A @ np.ones(2)), np.eye(2).view(Sub))


# ---------------------------------------------------------------------------------------------
# Foreign types are never captured
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class LowRank:                       # A = U @ V.T
    U: np.ndarray
    V: np.ndarray

    def __matmul__(self, b):
        return self.U @ (self.V.T @ b)

    def __rmatmul__(self, b):
        return (b @ self.U) @ self.V.T


def lowrank_objective(U, V, b, matrix=LowRank):
    return np.sum((matrix(U, V) @ b) ** 2) + np.sum(b @ matrix(U, V))


class DeferringLowRank(LowRank):
    """LowRank that plain NumPy can use too: ``ndarray @ A`` defers to ``A.__rmatmul__``
    (NEP 13). Without it only a traced ``b`` makes ``b @ A`` work."""

    __array_ufunc__ = None


def test_low_rank_products_run_their_own_code_without_a_dense_matrix():
    n, r = 60_000, 3
    rng = np.random.default_rng(1)
    U, V, b = rng.standard_normal((n, r)), rng.standard_normal((n, r)), rng.standard_normal(n)
    tracemalloc.start()
    try:
        dU, dV, db = wg.gradient(lowrank_objective, U, V, b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * n * 8 / 1000, f"peak {peak} bytes: a dense n×n matrix was formed"
    # By hand: f = |U Vᵀb|² + bᵀU Vᵀ1.
    w, ones_V, Ub = V.T @ b, np.sum(V, axis=0), U.T @ b
    z = U @ w
    np.testing.assert_allclose(dU, 2 * np.outer(z, w) + np.outer(b, ones_V), rtol=1e-9)
    np.testing.assert_allclose(dV, 2 * np.outer(b, U.T @ z) + np.outer(np.ones(n), Ub),
                               rtol=1e-9)
    np.testing.assert_allclose(db, 2 * V @ (U.T @ z) + U @ ones_V, rtol=1e-9)


def test_low_rank_products_in_both_modes_and_with_the_object_as_argument():
    rng = np.random.default_rng(2)
    U, V, b = rng.standard_normal((6, 2)), rng.standard_normal((6, 2)), rng.standard_normal(6)
    check_grads(lambda U, V, b: lowrank_objective(U, V, b, DeferringLowRank), U, V, b,
                modes=BOTH, order=2)
    f = lambda A, b: np.sum(np.tanh(A @ b)) + np.sum(b @ A)
    dA, db = wg.gradient(f, DeferringLowRank(U, V), b)
    assert type(dA) is DeferringLowRank
    check_grads(f, DeferringLowRank(U, V), b, modes=BOTH)


def test_a_typed_numpy_rule_names_a_foreign_type_in_an_explicit_numpy_call():
    # np.matmul(A, b) with b traced reaches wengert with A as an argument: a rule for
    # (np.matmul, LowRank) applies, and may hand the work to AD of the type's own code.
    @wg.rrule(np.matmul, LowRank)
    def lowrank_matmul_rrule(A, b):
        return wg.pullback(lambda A, b: A @ b, A, b)

    rng = np.random.default_rng(3)
    A = LowRank(rng.standard_normal((5, 2)), rng.standard_normal((5, 2)))
    b = rng.standard_normal(5)
    dA, db = wg.gradient(lambda A, b: np.sum(np.matmul(A, b) ** 2), A, b)
    z = A.U @ (A.V.T @ b)
    assert type(dA) is LowRank
    np.testing.assert_allclose(dA.U, 2 * np.outer(z, A.V.T @ b))
    np.testing.assert_allclose(db, 2 * A.V @ (A.U.T @ z))


def test_a_tracer_does_not_defer_to_a_foreign_type_that_a_rule_names():
    # b @ A with b traced: the tracer's __matmul__ sees LowRank, finds a rule naming it, and
    # binds the call instead of returning NotImplemented.
    calls = []

    @wg.rrule(np.matmul, object, LowRank)
    def vector_times_lowrank(b, A):
        calls.append(1)
        return wg.pullback(lambda b, A: (b @ A.U) @ A.V.T, b, A)

    rng = np.random.default_rng(4)
    U, V, b = rng.standard_normal((5, 2)), rng.standard_normal((5, 2)), rng.standard_normal(5)
    grads = wg.gradient(lambda U, V, b: np.sum(np.sin(b @ LowRank(U, V))), U, V, b)
    dense = wg.gradient(lambda U, V, b: np.sum(np.sin(b @ (U @ V.T))), U, V, b)
    assert calls == [1]
    for g, expected in zip(grads, dense):
        np.testing.assert_allclose(g, expected)


# ---------------------------------------------------------------------------------------------
# non_differentiable, stop_gradient, checkpoint
# ---------------------------------------------------------------------------------------------

def test_non_differentiable_numpy_function():
    wg.non_differentiable(np.digitize)
    edges = np.array([0.0, 1.0, 2.0])

    def f(x):
        bins = np.digitize(x, edges)
        assert type(bins) is np.ndarray        # a plain value, no tracer
        return np.sum(x * bins)

    x = np.array([0.5, 1.5, 2.5])
    np.testing.assert_allclose(wg.gradient(f, x)[0], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(wg.jvp(f, (x,), (np.ones(3),))[1], 6.0)


def test_non_differentiable_python_function_as_a_decorator():
    @wg.non_differentiable
    def step_size(x):
        return np.max(np.abs(x))

    def f(x):
        return np.sum(x / step_size(x))

    x = np.array([1.0, -4.0])
    np.testing.assert_allclose(wg.gradient(f, x)[0], [0.25, 0.25])
    np.testing.assert_allclose(wg.jvp(f, (x,), (np.ones(2),))[1], 0.5)


def test_non_differentiable_primitive_with_tracers_inside_a_tree():
    @wg.primitive
    def largest_weight(params):
        return np.max(np.abs(params["w"]))

    wg.non_differentiable(largest_weight)
    (g,) = wg.gradient(lambda w: np.sum(w / largest_weight({"w": w})), np.array([1.0, -3.0]))
    np.testing.assert_allclose(g, [1 / 3, 1 / 3])


def test_stop_gradient():
    x = np.array([1.0, 2.0])
    (g,) = wg.gradient(lambda x: np.sum(x * wg.stop_gradient(x)), x)
    np.testing.assert_allclose(g, x)                 # d/dx (x·c) with c = x held fixed
    tree = wg.gradient(lambda p: np.sum(wg.stop_gradient(p)["a"] * p["b"]),
                       {"a": x, "b": 2 * x})[0]
    np.testing.assert_allclose(tree["a"], 0.0)
    np.testing.assert_allclose(tree["b"], x)
    _, dy = wg.jvp(lambda x: wg.stop_gradient(x) ** 2 + x, (x,), (np.ones(2),))
    np.testing.assert_allclose(dy, 1.0)
    # Inside nested differentiation it stops every level.
    assert wg.gradient(lambda t: wg.gradient(lambda s: wg.stop_gradient(s * t) * s, 2.0)[0],
                       3.0)[0] == pytest.approx(0.0)


def chain_step(x):
    return np.tanh(x) * 1.01 + 0.1 * np.sin(x)


def chain_segment(x):
    for _ in range(10):
        x = chain_step(x)
    return x


def test_checkpoint_gives_the_same_derivatives():
    segment = wg.checkpoint(chain_segment)
    x = np.linspace(-1, 1, 5)
    plain_g = wg.gradient(lambda x: np.sum(chain_segment(chain_segment(x))), x)[0]
    cp_g = wg.gradient(lambda x: np.sum(segment(segment(x))), x)[0]
    np.testing.assert_allclose(cp_g, plain_g, rtol=1e-12)
    check_grads(lambda x: segment(x), x, modes=BOTH, order=2)

    @wg.checkpoint
    def two_arguments(params, y):
        return params["a"] * np.sin(y) + params["b"] * y

    check_grads(two_arguments, {"a": 1.5, "b": np.array([0.5, -0.5])}, np.array([0.2, 0.3]),
                modes=BOTH)


def peak_memory_of_gradient(f, x):
    tracemalloc.start()
    try:
        g = wg.gradient(f, x)[0]
        return g, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_checkpoint_keeps_less_memory_on_a_long_chain():
    # 10 segments of 10 steps on 20 000 numbers: plainly, the tape holds every step's
    # intermediates; checkpointed, the 10 segment inputs and one segment's intermediates.
    segment = wg.checkpoint(chain_segment)
    x = np.random.default_rng(0).standard_normal(20_000)

    def plain(x):
        for _ in range(10):
            x = chain_segment(x)
        return np.sum(x)

    def checkpointed(x):
        for _ in range(10):
            x = segment(x)
        return np.sum(x)

    g_plain, peak_plain = peak_memory_of_gradient(plain, x)
    g_cp, peak_cp = peak_memory_of_gradient(checkpointed, x)
    np.testing.assert_allclose(g_cp, g_plain, rtol=1e-12)
    assert peak_cp < peak_plain / 2, (peak_cp, peak_plain)


def test_a_user_pullback_with_a_cotangent_of_the_wrong_shape_is_an_error():
    @wg.primitive
    def total(x):
        return np.sum(x)

    @wg.rrule(total)
    def _(x):
        return np.sum(x), lambda ct: (np.ones(2),)   # x has shape (3,)

    with pytest.raises(wg.DifferentiationError, match=r"shape \(2,\) for its argument 0, of "
                                                      r"shape \(3,\)"):
        wg.gradient(total, np.ones(3))
