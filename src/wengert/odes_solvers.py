"""How the ODE steps of ``odes_flow`` are integrated on concrete values: SciPy's solver with
the program's options, less what only fits the program's own function (its Jacobian and band
structure, which take its own arguments) or its own interval (first and smallest steps, a
critical time). The larger systems the rules integrate keep the tolerances, per-component
ones extended to the new entries.

Each solver gives the states at output times (``solve``) and a continuous trajectory
(``dense``: SciPy's dense output), which the reverse rule interpolates instead of
integrating the state backwards in time, unstable for stiff problems.
"""
import numpy as np

# odeint's tolerances when the program gives none (SciPy's documented defaults)
_ODEINT_TOLERANCE = 1.49012e-8


class OdeintSolver:
    """scipy.integrate.odeint (LSODA) with the program's keyword options; its trajectories
    come from solve_ivp's LSODA, which has dense output."""

    _DROPPED = {"Dfun", "col_deriv", "ml", "mu", "tcrit", "h0", "hmin", "full_output",
                "printmessg", "tfirst"}

    def __init__(self, odeint, solve_ivp, options):
        self.odeint = odeint
        self.solve_ivp = solve_ivp
        self.options = {k: v for k, v in options.items() if k not in self._DROPPED}

    def solve(self, rate, y0, t0, times, params):
        from_start = times[0] == t0
        grid = times if from_start else np.concatenate([[t0], times])
        ys = self.odeint(rate, y0, grid, args=tuple(params), **self.options)
        return _finite(ys if from_start else ys[1:], "odeint")

    def dense(self, rate, y0, t0, t_end, params):
        rtol, atol = (self.options.get(name) for name in ("rtol", "atol"))
        options = dict(rtol=_ODEINT_TOLERANCE if rtol is None else rtol,
                       atol=_ODEINT_TOLERANCE if atol is None else atol)
        if self.options.get("hmax"):
            options["max_step"] = self.options["hmax"]
        return _dense(self.solve_ivp, rate, y0, t0, t_end, params, "LSODA", options)

    def widened(self, n, size):
        return OdeintSolver(self.odeint, self.solve_ivp,
                            _widened_options(self.options, n, size))


class IvpSolver:
    """scipy.integrate.solve_ivp with the program's method and options."""

    _DROPPED = {"jac", "jac_sparsity", "lband", "uband", "first_step", "min_step"}

    def __init__(self, solve_ivp, method, options):
        self.solve_ivp = solve_ivp
        self.method = method
        self.options = {k: v for k, v in options.items() if k not in self._DROPPED}

    def solve(self, rate, y0, t0, times, params):
        if np.all(times == t0):   # nothing to integrate (SciPy reports no points for it)
            return np.tile(y0, (len(times), 1))
        solution = self.solve_ivp(_time_first(rate), (t0, times[-1]), y0, method=self.method,
                                  t_eval=times, args=tuple(params), **self.options)
        _succeeded(solution)
        return _finite(solution.y.T, "solve_ivp")

    def dense(self, rate, y0, t0, t_end, params):
        return _dense(self.solve_ivp, rate, y0, t0, t_end, params, self.method, self.options)

    def widened(self, n, size):
        return IvpSolver(self.solve_ivp, self.method, _widened_options(self.options, n, size))


def _time_first(rate):
    return lambda t, y, *params: rate(y, t, *params)


def _dense(solve_ivp, rate, y0, t0, t_end, params, method, options):
    """The solution as a function of time, from t0 to t_end."""
    if t_end == t0:
        return lambda t: y0
    solution = solve_ivp(_time_first(rate), (t0, t_end), y0, method=method, dense_output=True,
                         args=tuple(params), **options)
    _succeeded(solution)
    return solution.sol


def _widened_options(options, n, size):
    widened = dict(options)
    for name in ("rtol", "atol"):
        tol = widened.get(name)
        if tol is not None and np.ndim(tol) == 1:
            tol = np.broadcast_to(np.asarray(tol, dtype=float), (n,))
            widened[name] = np.concatenate([tol, np.full(size - n, tol.min())])
    return widened


def _succeeded(solution):
    if solution.status < 0:
        raise RuntimeError(
            "scipy.integrate.solve_ivp failed on equations wengert integrates for a "
            f"derivative: {solution.message} Other tolerances (rtol, atol) or another method "
            "may help.")


def _finite(ys, solver):
    if not np.all(np.isfinite(ys)):
        raise RuntimeError(
            f"scipy.integrate.{solver} gave non-finite values on equations wengert integrates "
            "for a derivative. Under nested differentiation the adjoint integrates the state "
            "backwards in time, which diverges for stiff problems: take the inner derivative "
            "in forward mode (wg.jvp, wg.jacobian(..., mode='forward')).")
    return ys
