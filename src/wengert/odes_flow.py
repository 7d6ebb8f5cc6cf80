"""The solution of an ODE at given times as one step for AD, ``flow``, with its two rules: the
adjoint method in reverse mode and forward sensitivities in forward mode.

``flow(system, y0, t0, times, params)`` is ``y(times[i])`` for dy/dt = rate(y, t, *params) and
y(t0) = y0, integrated by a SciPy solver. Each rule integrates a larger ODE with the same
solver, whose right-hand side differentiates ``rate`` with wengert itself (a pullback or a jvp
of it per evaluation), and it does so by calling ``flow`` again: a rule that meets tracers of
an outer level (a Hessian, a jvp of a gradient) has those solves differentiated by the same
two rules, so every order and every nesting of the modes comes from these two.
"""
import numpy as np

from .core.levels import primal
from .forward_api import jvp
from .reverse_api import pullback
from .rules._helpers import (ZERO, Tracer, forward, is_complex, is_zero, primitive, reverse,
                             shape_of, to_dense, zeros_like_value)
from .tangents import NO_TANGENT
from .tree import register_tree


class System:
    """dy/dt = rate(y, t, *params) for a state of ``size`` entries, and the solver that
    integrates it. ``known``: ``(inputs, ys, trajectory)`` of a solve done already (the
    program's own call; ``trajectory`` may be None), which ``flow`` reuses when it meets the
    same concrete inputs again."""

    __slots__ = ("rate", "size", "solver", "known")

    def __init__(self, rate, size, solver, known=None):
        self.rate = rate
        self.size = size
        self.solver = solver
        self.known = known

    def _knows(self, inputs):
        return self.known is not None and all(
            np.array_equal(a, b) for a, b in zip(self.known[0], inputs))

    def trajectory(self, y0, t0, times, params):
        """The solution through ``times`` as a function of time (concrete inputs)."""
        if self._knows((y0, t0, times, *params)) and self.known[2] is not None:
            return self.known[2]
        return self.solver.dense(self.rate, y0, t0, times[-1], params)


# A system holds nothing to differentiate: a structure with no leaves, like a flag.
register_tree(System, lambda system: ((), system), lambda system, _: system)


@primitive
def flow(system, y0, t0, times, params):
    """The states at ``times`` (an array ``(len(times), system.size)``) of the solution that
    starts at ``y0`` at time ``t0``; ``params`` is a tuple of the rate's extra arguments."""
    if system._knows((y0, t0, times, *params)):
        return system.known[1].copy()
    return system.solver.solve(system.rate, y0, t0, times, params)


# --- reverse mode: the adjoint method ------------------------------------------------------------
# Between two output times the cotangent a of the state obeys da/dt = -(∂f/∂y)ᴴ a backwards in
# time; ∫ (∂f/∂p)ᴴ a dt collects the parameters' cotangent on the way. Each output's cotangent
# joins a at its time. The Jacobians are taken along the forward solution: where nothing
# outside this level moves it, its dense output (stable for stiff problems too); otherwise y
# is integrated backwards beside a, restarted from the forward solution at every output time,
# so that the outer levels see how the pullback depends on y0, the times and the params.

@reverse(flow)
def _flow_reverse(needs, system, y0, t0, times, params):
    ys = flow(system, y0, t0, times, params)
    wanted = _mask(needs[4], len(params))
    integrate = bool(needs[1] or needs[2] or any(wanted))
    along_dense = not any(isinstance(v, Tracer) for v in (y0, t0, times, *params))
    adjoints = []   # made at the first pullback, kept for the next ones

    def flow_pullback(ys_ct):
        if is_zero(ys_ct):
            return NO_TANGENT, ZERO, ZERO, ZERO, (ZERO,) * len(params)
        rate, n = system.rate, system.size
        if integrate and not adjoints:
            trajectory = system.trajectory(y0, t0, times, params) if along_dense else None
            adjoints.append(_adjoint(system, wanted, params, trajectory))
        offset = 0 if along_dense else n   # where a starts in the adjoint's state
        a = None
        q = zeros_like_value(ys, shape=(adjoints[0].size - offset - n,)) if integrate else None
        times_ct = []
        for i in range(shape_of(times)[0] - 1, -1, -1):
            a = ys_ct[i] if a is None else a + ys_ct[i]
            if needs[3]:   # moving an output time moves its state along the flow
                times_ct.append(_inner(ys_ct[i], rate(ys[i], times[i], *params)))
            end = times[i - 1] if i else t0
            if integrate and primal(end) != primal(times[i]):
                start = [a, q] if along_dense else [ys[i], a, q]
                z = flow(adjoints[0], np.concatenate(start), times[i], np.reshape(end, (1,)),
                         params)[0]
                a, q = z[offset:offset + n], z[offset + n:]
        # Starting later is starting from y0 - f(y0, t0)·dt0: a sees that shift of y0.
        t0_ct = -_inner(a, rate(y0, t0, *params)) if needs[2] else ZERO
        times_ct = np.stack(times_ct[::-1]) if needs[3] else ZERO
        y0_ct = _fit(y0, a) if needs[1] else ZERO
        return NO_TANGENT, y0_ct, t0_ct, times_ct, _unpacked(q, params, wanted)

    return ys, flow_pullback


def _adjoint(system, wanted, params, trajectory):
    """The system the pullback integrates backwards: da/dt = -(∂f/∂y)ᴴ a and
    dq/dt = -(∂f/∂p)ᴴ a for the params ``wanted``, with y read from ``trajectory``: z = (a, q);
    or, without one, with dy/dt = f integrated beside them: z = (y, a, q)."""
    n, rate = system.size, system.rate
    carried = 0 if trajectory is not None else n
    size = carried + n + sum(_size(p) for p, w in zip(params, wanted) if w)

    def adjoint_rate(z, t, *params):
        def rate_of(y, *chosen):
            return rate(y, t, *_merged(params, wanted, chosen))

        y = z[:n] if trajectory is None else trajectory(t)
        dy, back = pullback(rate_of, y, *_chosen(params, wanted))
        y_ct, *params_ct = back(z[carried:carried + n])
        cts = [-y_ct, *[-np.ravel(c) for c in params_ct]]
        return np.concatenate(cts if trajectory is not None else [dy, *cts])

    return System(adjoint_rate, size, system.solver.widened(n, size))


# --- forward mode: sensitivities -----------------------------------------------------------------
# The tangent s of the state obeys ds/dt = (∂f/∂y) s + (∂f/∂p) ṗ, integrated beside y; a moved
# start time shifts s(t0) by -f(y0, t0)·ṫ0, a moved output time adds f(y, t)·ṫ to its state.

@forward(flow)
def _flow_forward(tangents, system, y0, t0, times, params):
    _, dy0, dt0, dtimes, dparams = tangents
    ys = flow(system, y0, t0, times, params)
    rate, n = system.rate, system.size
    dparams = [ZERO] * len(params) if is_zero(dparams) else [to_dense(d) for d in dparams]
    moving = [not is_zero(d) for d in dparams]
    s0 = to_dense(dy0)
    if not is_zero(dt0):
        s0 = s0 - rate(y0, t0, *params) * to_dense(dt0)
    dys = ZERO
    if not is_zero(s0) or any(moving):
        if is_zero(s0):
            s0 = zeros_like_value(y0)
        sensitivity = _sensitivity(system, moving)
        z = flow(sensitivity, np.concatenate([y0, s0]), t0, times,
                 (*params, *_chosen(dparams, moving)))
        dys = z[:, n:]
    if not is_zero(dtimes):
        rates = np.stack([rate(ys[i], times[i], *params) for i in range(shape_of(times)[0])])
        dys = dys + rates * np.reshape(to_dense(dtimes), (-1, 1))
    return ys, dys


def _sensitivity(system, moving):
    """The system with its tangent: z = (y, s), ds/dt = (∂f/∂y) s + (∂f/∂p) ṗ, where the
    tangents ṗ of the params marked ``moving`` follow the params."""
    n, rate, count = system.size, system.rate, len(moving)

    def sensitivity_rate(z, t, *params_and_tangents):
        params, tangents = params_and_tangents[:count], params_and_tangents[count:]

        def rate_of(y, *chosen):
            return rate(y, t, *_merged(params, moving, chosen))

        dy, ddy = jvp(rate_of, (z[:n], *_chosen(params, moving)), (z[n:], *tangents))
        return np.concatenate([dy, ddy])

    return System(sensitivity_rate, 2 * n, system.solver.widened(n, 2 * n))


# --- helpers -------------------------------------------------------------------------------------

def _mask(spec, count):
    """Which params a reverse rule's ``needs`` entry for the params tuple marks."""
    return [False] * count if spec is None else [s is not None for s in spec]


def _chosen(params, mask):
    return [p for p, m in zip(params, mask) if m]


def _merged(params, mask, chosen):
    """``params`` with the marked entries replaced by ``chosen``, in order."""
    chosen = iter(chosen)
    return [next(chosen) if m else p for p, m in zip(params, mask)]


def _size(x):
    return int(np.prod(shape_of(x)))


def _inner(u, v):
    """Re⟨u, v⟩: the pairing a real cotangent of a time has with a state's cotangent."""
    return np.real(np.sum(np.conj(u) * v)) if is_complex(u) else np.sum(u * v)


def _fit(x, ct):
    """A cotangent for ``x``: real where ``x`` is real."""
    return np.real(ct) if is_complex(ct) and not is_complex(x) else ct


def _unpacked(q, params, wanted):
    """The params' cotangents from the flat ``q`` the adjoint collected them in."""
    cts, offset = [], 0
    for p, w in zip(params, wanted):
        if not w:
            cts.append(ZERO)
            continue
        size = _size(p)
        cts.append(_fit(p, np.reshape(q[offset:offset + size], shape_of(p))))
        offset += size
    return tuple(cts)
