"""scipy.integrate's ODE solvers (wengert/odes.py, odes_flow.py): odeint and solve_ivp
differentiated with respect to the initial state, the times and the parameters, by the adjoint
method (reverse mode) and forward sensitivities (forward mode), to second order in every
nesting; against closed forms (exponential decay, a linear system through the matrix
exponential's Fréchet derivative) and central finite differences of the solver itself."""
import numpy as np
import pytest

scipy = pytest.importorskip("scipy")
import scipy.integrate  # noqa: E402
import scipy.linalg  # noqa: E402

import wengert as wg  # noqa: E402
from wengert.odes_flow import System, flow  # noqa: E402
from wengert.odes_solvers import IvpSolver  # noqa: E402

TIGHT = dict(rtol=1e-10, atol=1e-10)


# --- exponential decay: y(t) = y0·exp(-k (t - t0)) --------------------------------------------

def decay(y, t, k):
    return -k * y


def decay_first(t, y, k):
    return -k * y


def decay_exact(y0, k, t, t0):
    return y0[None, :] * np.exp(-k * (t - t0))[:, None]


def weights(shape):
    """A fixed cotangent for the loss, so that every output time and entry counts."""
    return np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape)


@pytest.mark.parametrize("n", [1, 3])
def test_odeint_decay_gradient_matches_closed_form(n):
    y0 = np.linspace(1.0, 2.0, n)
    t = np.array([0.2, 0.7, 1.0, 1.6])
    w = weights((4, n))

    def loss(y0, k, t):
        return np.sum(w * scipy.integrate.odeint(decay, y0, t, args=(k,), **TIGHT) ** 2)

    def exact(y0, k, t):
        return np.sum(w * decay_exact(y0, k, t, t[0]) ** 2)

    for got, want in zip(wg.gradient(loss, y0, 0.8, t), wg.gradient(exact, y0, 0.8, t)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-8)
    tangents = (np.ones(n), 0.5, np.array([0.3, -1.0, 0.2, 1.0]))
    got = wg.jvp(loss, (y0, 0.8, t), tangents)
    want = wg.jvp(exact, (y0, 0.8, t), tangents)
    np.testing.assert_allclose(got, want, rtol=1e-7)


@pytest.mark.parametrize("method", ["RK45", "LSODA", "BDF"])
def test_solve_ivp_decay_gradient_matches_closed_form(method):
    y0 = np.array([1.0, -0.5])
    t_eval = np.array([0.3, 0.8, 1.0])

    def loss(y0, k, t0, t_eval):
        solution = scipy.integrate.solve_ivp(decay_first, (t0, 1.0), y0, method=method,
                                             t_eval=t_eval, args=(k,), rtol=1e-9, atol=1e-9)
        return np.sum(weights((2, 3)) * solution.y)

    def exact(y0, k, t0, t_eval):
        return np.sum(weights((2, 3)) * decay_exact(y0, k, t_eval, t0).T)

    args = (y0, 1.3, 0.1, t_eval)
    for got, want in zip(wg.gradient(loss, *args), wg.gradient(exact, *args)):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)
    tangents = (np.array([0.4, 1.0]), -0.7, 0.3, np.array([0.5, -0.2, 1.0]))
    np.testing.assert_allclose(wg.jvp(loss, args, tangents), wg.jvp(exact, args, tangents),
                               rtol=2e-6)


# --- second derivatives, every nesting, at points with values 0 and 1 ---------------------------

def packed(x):
    return x[:2], x[2], x[3:]


def odeint_loss(x):
    y0, k, t = packed(x)
    return np.sum(weights((3, 2)) * scipy.integrate.odeint(decay, y0, t, args=(k,),
                                                           **TIGHT) ** 2)


def ivp_loss(x):
    y0, k, t = packed(x)
    solution = scipy.integrate.solve_ivp(decay_first, (t[0], t[-1]), y0, method="DOP853",
                                         t_eval=t, args=(k,), **TIGHT)
    return np.sum(weights((3, 2)) * solution.y.T ** 2)


def exact_loss(x):
    y0, k, t = packed(x)
    return np.sum(weights((3, 2)) * decay_exact(y0, k, t, t[0]) ** 2)


SECOND_ORDER_POINTS = [np.array([1.0, 0.0, 1.0, 0.0, 0.5, 1.0]),     # y0 = (1, 0), k = 1
                       np.array([0.5, 2.0, 0.0, 0.0, 1.0, 1.5])]     # no decay: k = 0


@pytest.mark.parametrize("loss", [odeint_loss, ivp_loss], ids=["odeint", "solve_ivp"])
@pytest.mark.parametrize("x", SECOND_ORDER_POINTS, ids=["k=1", "k=0"])
def test_second_derivatives_in_every_nesting(loss, x):
    hessian = wg.hessian(exact_loss, x)
    v = np.array([0.3, -0.2, 0.5, 0.1, -0.4, 0.6])
    rev_rev = wg.gradient(lambda x: np.sum(wg.gradient(loss, x)[0] * v), x)[0]
    fwd_rev = wg.hessian(loss, x) @ v
    rev_fwd = wg.gradient(lambda x: wg.jvp(loss, (x,), (v,))[1], x)[0]
    fwd_fwd = wg.jvp(lambda x: wg.jvp(loss, (x,), (v,))[1], (x,), (v,))[1]
    for got in (rev_rev, fwd_rev, rev_fwd):
        np.testing.assert_allclose(got, hessian @ v, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(fwd_fwd, v @ hessian @ v, rtol=1e-7)


# --- a linear system: y(t) = expm(A (t - t0)) y0 --------------------------------------------------

A = np.array([[-0.5, 1.0, 0.0], [-1.0, -0.3, 0.2], [0.1, 0.0, -0.8]])
Y0 = np.array([1.0, 0.5, -1.0])
TIMES = np.array([0.0, 0.6, 1.5])


def linear(t, y, a):
    return a @ y


def linear_loss(a, y0):
    solution = scipy.integrate.solve_ivp(linear, (0.0, 1.5), y0, method="DOP853",
                                         t_eval=TIMES, args=(a,), **TIGHT)
    return np.sum(weights((3, 3)) * solution.y)


def linear_directional(e, dy0):
    """d/dε of the loss at (A + εE, y0 + ε dy0), exactly: expm_frechet gives d expm."""
    total = 0.0
    for column, t in zip(weights((3, 3)).T, TIMES):
        expm, d_expm = scipy.linalg.expm_frechet(A * t, e * t)
        total += column @ (d_expm @ Y0 + expm @ dy0)
    return total


def test_linear_system_matches_matrix_exponential():
    rng = np.random.default_rng(0)
    e, dy0 = rng.standard_normal((3, 3)), rng.standard_normal(3)
    grad_a, grad_y0 = wg.gradient(linear_loss, A, Y0)
    np.testing.assert_allclose(np.sum(grad_a * e) + grad_y0 @ dy0, linear_directional(e, dy0),
                               rtol=1e-8)
    np.testing.assert_allclose(wg.jvp(linear_loss, (A, Y0), (e, dy0))[1],
                               linear_directional(e, dy0), rtol=1e-8)


def test_forward_jacobian_of_the_state_is_the_matrix_exponential():
    def final_state(y0):
        return scipy.integrate.odeint(lambda y, t: A @ y, y0, [0.0, 1.5], **TIGHT)[-1]

    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(wg.jacobian(final_state, Y0, mode=mode)[0],
                                   scipy.linalg.expm(1.5 * A), rtol=1e-7, atol=1e-9)


# --- Lotka-Volterra against finite differences of the solver ------------------------------------

def lotka_volterra(t, z, a, b, c, d):
    x, y = z[0], z[1]
    return np.stack([a * x - b * x * y, d * x * y - c * y])


LV_PARAMS = np.array([1.5, 1.0, 3.0, 1.0])
LV_STATE = np.array([1.0, 1.0])


@pytest.mark.parametrize("solver", ["odeint", "LSODA"])
def test_lotka_volterra_against_finite_differences(solver):
    def loss(z0, p, times):
        if solver == "odeint":
            zs = scipy.integrate.odeint(lotka_volterra, z0, times, args=tuple(p), tfirst=True,
                                        **TIGHT)
        else:
            zs = scipy.integrate.solve_ivp(lotka_volterra, (0.0, 2.5), z0, method=solver,
                                           t_eval=times, args=tuple(p), **TIGHT).y.T
        return np.sum(zs[:, 0] ** 2 + zs[:, 1])   # summed over every output time

    times = np.array([0.0, 1.1, 2.0]) if solver == "odeint" else np.array([0.4, 1.1, 2.0])
    wg.testing.check_grads(loss, LV_STATE, LV_PARAMS, times, eps=1e-5, atol=1e-5, rtol=1e-5)


def robertson(t, y, k):
    return np.stack([-k[0] * y[0] + k[2] * y[1] * y[2],
                     k[0] * y[0] - k[1] * y[1] ** 2 - k[2] * y[1] * y[2],
                     k[1] * y[1] ** 2])


def test_stiff_problem_in_both_modes():
    """Robertson's reactions to t = 40 (rates 0.04 to 3e7): the pullback reads the state from
    the forward solution's dense output; integrated backwards, the state would diverge."""
    def loss(log_k):
        solution = scipy.integrate.solve_ivp(robertson, (0.0, 40.0), np.array([1.0, 0.0, 0.0]),
                                             method="LSODA", t_eval=[40.0],
                                             args=(np.exp(log_k),), rtol=1e-7, atol=1e-10)
        return solution.y[0, -1] + 1e4 * solution.y[1, -1]

    log_k = np.log([0.04, 3e7, 1e4])
    direction = np.array([1.0, -0.5, 0.25])
    reverse = wg.gradient(loss, log_k)[0] @ direction
    forward = wg.jvp(loss, (log_k,), (direction,))[1]
    central = (loss(log_k + 1e-3 * direction) - loss(log_k - 1e-3 * direction)) / 2e-3
    np.testing.assert_allclose(reverse, forward, rtol=1e-5)
    np.testing.assert_allclose(forward, central, rtol=5e-4)   # the solver's noise over 1e-3


def test_flow_rules_against_finite_differences():
    """The two rules of the flow step itself, by the library's own rule checks."""
    def rate(y, t, a, b):
        return np.stack([a * y[1], -b * np.sin(y[0]) + 0.1 * t])

    system = System(rate, 2, IvpSolver(scipy.integrate.solve_ivp, "DOP853",
                                       dict(rtol=1e-12, atol=1e-12)))
    args = (system, np.array([0.5, 0.0]), 0.2, np.array([0.3, 0.9, 1.4]), (1.0, 2.0))
    wg.testing.check_rrule(flow, *args)
    wg.testing.check_frule(flow, *args)


# --- what solve_ivp's result carries ----------------------------------------------------------

def test_solve_ivp_times_carry_their_derivatives():
    def result(t0, t1, t_eval=None):
        return scipy.integrate.solve_ivp(decay_first, (t0, t1), np.array([2.0]),
                                         t_eval=t_eval, args=(0.5,), **TIGHT)

    # Without t_eval the solver's own steps are reported; the first and last are t_span's.
    d_t = wg.jvp(lambda t0, t1: result(t0, t1).t, (0.0, 1.0), (1.0, 2.0))[1]
    assert d_t[0] == 1.0 and d_t[-1] == 2.0 and not np.any(d_t[1:-1])
    # y at the end moves with t1 by y'(t1) = -0.5 y(t1).
    g = wg.gradient(lambda t1: result(0.0, t1).y[0, -1], 1.0)[0]
    np.testing.assert_allclose(g, -0.5 * 2.0 * np.exp(-0.5), rtol=1e-8)
    t_eval = np.array([0.25, 0.5])
    g = wg.gradient(lambda te: np.sum(result(0.0, 1.0, te).t ** 2), t_eval)[0]
    np.testing.assert_array_equal(g, 2 * t_eval)
    # The result can be returned from a transformation: its tangent is a result too.
    plain = result(0.0, 1.0, t_eval)
    traced, tangent = wg.jvp(lambda y0: scipy.integrate.solve_ivp(
        decay_first, (0.0, 1.0), y0, t_eval=t_eval, args=(0.5,), **TIGHT),
        (np.array([2.0]),), (np.array([1.0]),))
    assert traced.nfev == plain.nfev and traced.status == 0 and traced.message == plain.message
    np.testing.assert_array_equal(traced.y, plain.y)
    np.testing.assert_array_equal(traced.t, t_eval)
    np.testing.assert_allclose(tangent.y, np.exp(-0.5 * t_eval)[None, :], rtol=1e-8)


def test_complex_state_and_backwards_in_time():
    def loss(y0, w, t_eval):
        solution = scipy.integrate.solve_ivp(lambda t, y, w: 1j * w * y - 0.1 * y ** 2,
                                             (2.0, 0.0), y0, method="DOP853", t_eval=t_eval,
                                             args=(w,), rtol=1e-11, atol=1e-11)
        return np.sum(np.abs(solution.y) ** 2) + np.sum(np.real(1j * solution.y))

    wg.testing.check_grads(loss, np.array([1.0 + 0.5j, 0.3 - 0.2j]), 1.3,
                           np.array([1.5, 0.4]), eps=1e-5, atol=1e-6, rtol=1e-6)


def test_closures_float32_full_output_and_untraced_calls():
    # A traced value the right-hand side closes over is differentiated like one in args.
    y0 = np.array([1.0, 2.0])
    g = wg.gradient(lambda k: np.sum(scipy.integrate.odeint(lambda y, t: -k * y, y0,
                                                            [0.0, 1.0], **TIGHT)), 0.7)[0]
    np.testing.assert_allclose(g, -np.sum(y0) * np.exp(-0.7), rtol=1e-8)
    # float32 inputs: the solver works in float64; gradients come back in float32.
    g32 = wg.gradient(lambda y0: np.sum(scipy.integrate.odeint(decay, y0, [0.0, 1.0],
                                                               args=(1.0,))),
                      y0.astype(np.float32))[0]
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, [1 + np.exp(-1.0)] * 2, rtol=1e-6)
    # full_output returns the plain information dictionary beside the traced solution.
    (_, info), (d_ys, _) = wg.jvp(lambda y0: scipy.integrate.odeint(
        decay, y0, [0.0, 1.0], args=(1.0,), full_output=True), (y0,), (y0,))
    np.testing.assert_allclose(d_ys, np.array([y0, y0 * np.exp(-1.0)]), rtol=1e-6)
    assert info["message"] == "Integration successful."
    # Without tracers the door's answer is SciPy's own, bit for bit, and a plain array.
    plain = scipy.integrate.odeint.__wrapped__(decay, y0, [0.0, 1.0], args=(1.0,))
    np.testing.assert_array_equal(scipy.integrate.odeint(decay, y0, [0.0, 1.0], args=(1.0,)),
                                  plain)
    inside = []
    wg.gradient(lambda x: inside.append(scipy.integrate.odeint(decay, y0, [0.0, 1.0],
                                                               args=(1.0,))) or x, 1.0)
    assert type(inside[0]) is np.ndarray
    np.testing.assert_array_equal(inside[0], plain)


def test_unsupported_uses_are_refused():
    def call(**kwargs):
        return lambda y0: scipy.integrate.solve_ivp(decay_first, (0.0, 1.0), y0, args=(1.0,),
                                                    **kwargs).y
    y0 = np.array([1.0])
    with pytest.raises(wg.DifferentiationError, match="dense_output=True"):
        wg.gradient(lambda y0: np.sum(call(dense_output=True)(y0)), y0)
    with pytest.raises(wg.DifferentiationError, match=r"events=.*wg.stop_gradient"):
        wg.jvp(call(events=lambda t, y, k: y[0] - 0.5), (y0,), (y0,))
    with pytest.raises(wg.DifferentiationError, match=r"odeint received a traced value for rtol"):
        wg.gradient(lambda r: np.sum(scipy.integrate.odeint(decay, y0, [0.0, 1.0], args=(1.0,),
                                                            rtol=r)), 1e-6)
    # The same options without tracers run as SciPy runs them.
    assert scipy.integrate.solve_ivp(decay_first, (0.0, 1.0), y0, args=(1.0,),
                                     dense_output=True).sol is not None
