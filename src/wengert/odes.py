"""Derivatives through scipy.integrate's ODE solvers, loaded when the program imports
scipy.integrate. ``odeint`` and ``solve_ivp`` are differentiated with respect to the initial
state, the times and the traced values passed through ``args`` or closed over by the
right-hand side: each call becomes one ``flow`` step (``odes_flow``; the solvers it runs are
in ``odes_solvers``), whose rules run the adjoint method in reverse mode and forward
sensitivities in forward mode.

The solvers call the user's function, so their rules differentiate it: they live above both
mode engines, like ``checkpoint``.
"""
import inspect

import numpy as np
import scipy.integrate

from .arraytypes import TracedValue
from .core.levels import current_level, primal
from .errors import DifferentiationError
from .odes_flow import System, flow
from .odes_solvers import IvpSolver, OdeintSolver
from .reach import call_substituted, reachable_tracers
from .registry import implementations
from .rules._helpers import as_array, dtype_of
from .rules._reach import reach
from .tree import flatten, register_tree, unflatten

_odeint = reach(scipy.integrate, "odeint")
_solve_ivp = reach(scipy.integrate, "solve_ivp")
_ODEINT = inspect.signature(_odeint)
_SOLVE_IVP = inspect.signature(_solve_ivp)


class _Rate:
    """The program's right-hand side as ``rate(y, t, *params)`` -> dy/dt, a 1-D array. The
    params are the traced values it receives through ``args`` and those it closes over
    (found as ``wg.checkpoint`` finds them), each an explicit input of the flow now."""

    def __init__(self, fn, time_first, args, captured):
        self.fn = fn
        self.time_first = time_first
        leaves, self.treedef = flatten(tuple(args))
        self.traced = [i for i, leaf in enumerate(leaves) if isinstance(leaf, TracedValue)]
        self.leaves = [None if i in self.traced else leaf for i, leaf in enumerate(leaves)]
        self.captured = captured       # [(tracer, [objects it stands for])]
        self.params = tuple(leaves[i] for i in self.traced) + tuple(t for t, _ in captured)

    def __call__(self, y, t, *params):
        leaves = list(self.leaves)
        for i, p in zip(self.traced, params):
            leaves[i] = p
        args = unflatten(self.treedef, leaves)
        call = (t, y, *args) if self.time_first else (y, t, *args)
        if self.captured:
            out = call_substituted(self.fn, self._pairs(params[len(self.traced):]), call)
        else:
            out = self.fn(*call)
        return np.ravel(as_array(out))

    def _pairs(self, values):
        return [(old, value) for (tracer, stood_for), value in zip(self.captured, values)
                for old in (tracer, *stood_for)]

    def plain(self):
        """The program's function for the plain solve: what it closes over, untraced."""
        if not self.captured:
            return self.fn
        pairs = self._pairs([primal(t) for t, _ in self.captured])
        return lambda *call: call_substituted(self.fn, pairs, call)


# --- odeint --------------------------------------------------------------------------------------

def _odeint_traced(*args, **kwargs):
    """scipy.integrate.odeint; with traced y0, t or args (or a func closing over traced
    values), its solution as a flow that carries their derivatives."""
    if _plainly(args, kwargs):
        return _odeint(*args, **kwargs)
    arguments = _arguments(_ODEINT, args, kwargs)
    func, y0, t = arguments.pop("func"), arguments.pop("y0"), arguments.pop("t")
    extra = arguments.pop("args")
    extra = extra if isinstance(extra, tuple) else (extra,)
    captured = _captured(func, (y0, t, extra, arguments))
    if captured is None:
        return _odeint(*args, **kwargs)
    _refuse_traced_options("scipy.integrate.odeint", arguments, "y0, t and args")
    rate = _Rate(func, arguments["tfirst"], extra, captured)
    plain = _odeint(rate.plain(), _plain(y0), _plain(t), _plain(extra),
                    **{**arguments, "Dfun": _plain_callable(arguments["Dfun"])})
    ys = plain[0] if arguments["full_output"] else plain
    y0, t = _state(y0, complex_allowed=False), _times(t)
    t0 = t[0]
    system = System(rate, ys.shape[1], OdeintSolver(_odeint, _solve_ivp, arguments),
                    known=(_plain((y0, t0, t, *rate.params)), ys, None))
    ys = flow(system, y0, t0, t, rate.params)
    return (ys, plain[1]) if arguments["full_output"] else ys


# --- solve_ivp -----------------------------------------------------------------------------------

def _solve_ivp_traced(*args, **kwargs):
    """scipy.integrate.solve_ivp; with traced t_span, y0, t_eval or args (or a fun closing
    over traced values), a result whose ``y`` (and ``t``, where the times are traced) carry
    their derivatives. The other fields are the plain solver's."""
    if _plainly(args, kwargs):
        return _solve_ivp(*args, **kwargs)
    arguments = _arguments(_SOLVE_IVP, args, kwargs)
    fun, t_span, y0 = arguments["fun"], arguments["t_span"], arguments["y0"]
    t_eval, options = arguments["t_eval"], arguments["options"]
    extra = () if arguments["args"] is None else tuple(arguments["args"])
    captured = _captured(fun, (t_span, y0, t_eval, extra, options, arguments["method"]))
    if captured is None:
        return _solve_ivp(*args, **kwargs)
    _refuse_unsupported(arguments)
    rate = _Rate(fun, True, extra, captured)
    plain_options = {k: _plain_callable(v) for k, v in options.items()}
    solution = _solve_ivp(rate.plain(), _plain(t_span), _plain(y0), arguments["method"],
                          _plain(t_eval), True, None, arguments["vectorized"],
                          _plain(extra) if arguments["args"] is not None else None,
                          **plain_options)
    # Dense output is asked for the reverse rule's trajectory only: the program gets none.
    trajectory, solution.sol = solution.sol, None
    if solution.y.shape[1] == 0:
        return solution
    y0 = _state(y0, complex_allowed=True)
    t0, t1 = _time(t_span[0]), _time(t_span[1])
    times = _output_times(solution, t0, t1, t_eval)
    system = System(rate, y0.shape[0], IvpSolver(_solve_ivp, arguments["method"], options),
                    known=(_plain((y0, t0, times, *rate.params)), solution.y.T, trajectory))
    solution.y = flow(system, y0, t0, times, rate.params).T
    if isinstance(times, TracedValue):
        solution.t = times
    _register_result(type(solution))
    return solution


_RESULT_TYPES = set()


def _register_result(cls):
    """Make solve_ivp's result a structure AD looks into (its ``t`` and ``y``), so that it can
    be returned from a transformation and carry its tangents there. SciPy does not export
    the class, so it is registered when the first traced result is made."""
    if cls in _RESULT_TYPES:
        return
    _RESULT_TYPES.add(cls)

    def parts(result):
        rest = {k: v for k, v in result.items() if k not in ("t", "y")}
        return (result["t"], result["y"]), (tuple(result), rest)

    def rebuilt(aux, children):
        keys, rest = aux
        values = {**rest, "t": children[0], "y": children[1]}
        return cls({k: values[k] for k in keys})

    register_tree(cls, parts, rebuilt)


def _output_times(solution, t0, t1, t_eval):
    """The times of the columns of ``solution.y``: t_eval (as far as the solver got), or the
    solver's own steps, whose first and last are t_span's ends (traced where they are)."""
    if t_eval is not None:
        times = _times(t_eval)
        return times[:len(solution.t)] if len(solution.t) < len(times) else times
    steps = solution.t
    if not (isinstance(t0, TracedValue) or isinstance(t1, TracedValue)) or len(steps) < 2:
        return steps
    last = [np.reshape(t1, (1,))] if solution.status == 0 else [steps[-1:]]
    return np.concatenate([np.reshape(t0, (1,)), steps[1:-1], *last])


def _refuse_unsupported(arguments):
    """The options whose results wengert cannot differentiate, refused with traced inputs."""
    if arguments["dense_output"]:
        raise DifferentiationError(
            "scipy.integrate.solve_ivp(dense_output=True) was called on traced values: "
            "wengert differentiates the solution at its output times (.y at .t), not the "
            "interpolant .sol. Pass the times you need as t_eval=..., or cut the derivative "
            "on purpose with wg.stop_gradient on the inputs.")
    if arguments["events"] is not None:
        raise DifferentiationError(
            "scipy.integrate.solve_ivp(events=...) was called on traced values: the event "
            "times, and the early stop they may cause, have no derivative in wengert. Solve "
            "without events (locate the event in .y afterwards), or cut the derivative on "
            "purpose with wg.stop_gradient on the inputs.")
    _refuse_traced_options("scipy.integrate.solve_ivp",
                           {"method": arguments["method"], **arguments["options"]},
                           "t_span, y0, t_eval and args")


# --- arguments -----------------------------------------------------------------------------------

def _plainly(args, kwargs):
    """No transformation is running here and no argument is traced: SciPy's call as it is,
    at no cost beyond a look at the arguments."""
    return current_level() is None and not any(
        isinstance(v, TracedValue) for v in (*args, *kwargs.values()))


def _arguments(signature, args, kwargs):
    call = signature.bind(*args, **kwargs)
    call.apply_defaults()
    return dict(call.arguments)


def _captured(fn, inputs):
    """The traced values ``fn`` closes over, as ``wg.checkpoint`` finds them; None when
    neither they nor ``inputs`` hold a tracer (the call needs no derivative)."""
    explicit = any(isinstance(leaf, TracedValue) for leaf in flatten(inputs)[0])
    if not explicit and current_level() is None:
        return None
    captured = reachable_tracers(fn)
    return captured if explicit or captured else None


def _refuse_traced_options(name, options, differentiable):
    for option, value in options.items():
        if any(isinstance(leaf, TracedValue) for leaf in flatten(value)[0]):
            raise DifferentiationError(
                f"{name} received a traced value for {option}=; wengert differentiates the "
                f"solution with respect to {differentiable} only. Pass a plain value "
                f"(wg.stop_gradient({option})).")


def _plain(x):
    """``x`` with every tracer inside it replaced by its concrete value."""
    leaves, treedef = flatten(x)
    return unflatten(treedef, [primal(v) if isinstance(v, TracedValue) else v for v in leaves])


def _plain_callable(fn):
    """A Jacobian the program passes: called on plain values, untraced too."""
    if not callable(fn):
        return fn
    captured = reachable_tracers(fn)
    return _Rate(fn, False, (), captured).plain() if captured else fn


def _state(y0, complex_allowed):
    """The initial state as the 1-D array the solvers integrate (float64, or complex128)."""
    y0 = np.ravel(as_array(y0))
    kind = dtype_of(y0).kind
    dtype = np.complex128 if kind == "c" and complex_allowed else np.float64
    return y0 if dtype_of(y0) == dtype else y0.astype(dtype)


def _times(t):
    t = np.ravel(as_array(t))
    return t if dtype_of(t) == np.float64 else t.astype(np.float64)


def _time(t):
    return _times(t)[0] if isinstance(t, TracedValue) else float(t)


# Calls of the doors run these: plain calls (no tracer anywhere) go straight to SciPy.
implementations[_odeint] = _odeint_traced
implementations[_solve_ivp] = _solve_ivp_traced
