"""Checks of derivatives: ``check_grads`` for any function, ``check_rrule`` / ``check_frule``
for one rule.

The checks pair a random output cotangent ``v`` with the function, ``L(x) = Re⟨v, f(x)⟩``,
so one reverse pass gives the whole gradient of ``L``, and compare it with central
differences of ``L`` in float64 — per coordinate for small inputs, along random directions
(the cheap ⟨v, J u⟩ check) for large ones. Complex inputs are checked in their real and
imaginary parts, with the convention that the gradient is ∂L/∂Re z + i ∂L/∂Im z.

A rule is checked against finite differences and, where the call has an implementation AD
can go through (a ``wg.primitive``'s body, or an ndarray subclass's own NumPy override),
against AD of that implementation, coordinate by coordinate. Every failure is an
AssertionError naming the argument and coordinate of the worst mismatch.
"""
import inspect

import numpy as np

from . import api, forward_api
from .core.bind import _own_override
from .core.levels import primal
from .errors import DifferentiationError, name_of
from .registry import forward_rules, implementations, reverse_rules
from .tree import flatten, is_differentiable, unflatten

_FULL_CHECK_SIZE = 40


def _tolerance(dtype):
    return (2e-2, 2e-3) if np.dtype(dtype) in (np.float32, np.complex64) else (1e-5, 1e-5)


def _as_float64(x):
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind in "fc":
        return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
    return x


def _pairing(out, v):
    return float(sum(np.real(np.sum(np.conj(vi) * np.asarray(oi)))
                     for vi, oi in zip(v, flatten(out)[0])))


def _random_like(x, rng):
    x = np.asarray(primal(x))
    r = rng.standard_normal(x.shape)
    if x.dtype.kind == "c":
        r = r + 1j * rng.standard_normal(x.shape)
    return r.astype(x.dtype) if x.dtype.kind in "fc" else r


# ---------------------------------------------------------------------------------------------
# Names of argument leaves, for readable reports
# ---------------------------------------------------------------------------------------------

def _argument_names(fn, count):
    """The positional parameter names of ``fn`` (``args[i]`` past them or when unknown)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    return [names[i] if i < len(names) else f"args[{i}]" for i in range(count)]


def _leaf_names(fn, args):
    """One name per leaf of ``args``: ``x``, ``layer.weight``, ``params['ls']``, ``xs[1]``."""
    _, treedef = flatten(tuple(args))
    names = []
    for name, child in zip(_argument_names(fn, len(args)), treedef.children):
        _paths(child, name, names)
    return names


def _paths(td, prefix, out):
    if td.kind == "leaf":
        out.append(prefix)
        return
    if td.kind == "dict":
        labels = [f"[{k!r}]" for k in td.meta]
    elif td.kind == "dataclass":
        labels = [f".{n}" for n in td.meta[1]]
    elif td.kind == "namedtuple":
        labels = [f".{n}" for n in td.meta._fields]
    else:
        labels = [f"[{i}]" for i in range(len(td.children))]
    for label, child in zip(labels, td.children):
        _paths(child, prefix + label, out)


def _at(name, shape, flat_index, imaginary=False):
    """``x[0, 2]`` (or ``x`` for a scalar), the place one coordinate of a leaf sits."""
    where = name
    if shape:
        where += "[" + ", ".join(str(int(j)) for j in np.unravel_index(flat_index, shape)) + "]"
    return where + (" (imaginary part)" if imaginary else "")


# ---------------------------------------------------------------------------------------------
# The problem: f at args as a function of the real coordinates of its differentiable leaves
# ---------------------------------------------------------------------------------------------

class _Problem:
    def __init__(self, f, args, rng, names):
        self.f = f
        self.args = tuple(args)
        self.leaves, self.treedef = flatten(self.args)
        self.diff = [i for i, x in enumerate(self.leaves) if is_differentiable(x)]
        self.names = names
        self.out_leaves, self.out_def = flatten(f(*args))
        self.v = [_random_like(o, rng) for o in self.out_leaves]

    def cotangent(self):
        return unflatten(self.out_def, self.v)

    def loss64(self, leaves):
        args = unflatten(self.treedef, [_as_float64(x) for x in leaves])
        return _pairing(self.f(*args), self.v)

    def finite_difference(self, i, direction, eps):
        """d/dt L(x_i + t·direction) at t = 0, by central differences."""
        def shifted(t):
            leaves = list(self.leaves)
            x = _as_float64(leaves[i])
            moved = x + t * direction
            if isinstance(x, (float, complex)):
                moved = type(x)(moved)
            elif isinstance(x, np.ndarray) and type(x) is not np.ndarray:
                # Arithmetic on an ndarray subclass may return a plain array; the function
                # must see the argument's own type (its overrides decide what it computes).
                moved = np.asarray(moved).view(type(x))
            leaves[i] = moved
            return self.loss64(leaves)

        return (shifted(eps) - shifted(-eps)) / (2 * eps)

    def directions(self, i, rng):
        """``(label, direction)`` pairs: each real coordinate of a small leaf, a few random
        directions for a large one."""
        x = np.asarray(primal(self.leaves[i]))
        complex_ = x.dtype.kind == "c"
        if x.size <= _FULL_CHECK_SIZE:
            for k in range(x.size):
                for unit in ((1.0, 1j) if complex_ else (1.0,)):
                    d = np.zeros(x.shape, np.complex128 if complex_ else np.float64)
                    d.flat[k] = unit
                    yield _at(self.names[i], x.shape, k, unit == 1j), d
        else:
            for k in range(3):
                d = rng.standard_normal(x.shape)
                if complex_:
                    d = d + 1j * rng.standard_normal(x.shape)
                yield f"{self.names[i]} along random direction {k}", d

    def tangents_for(self, i, d):
        """Tangents of all arguments: ``d`` on leaf ``i``, zeros elsewhere."""
        dtype = np.result_type(primal(self.leaves[i]))
        tangents = [np.zeros_like(np.asarray(primal(t))) if is_differentiable(t) else None
                    for t in self.leaves]
        tangents[i] = d.astype(dtype) if np.ndim(d) else dtype.type(d)
        return tuple(unflatten(self.treedef, tangents))


def _directional(grad, d):
    """⟨grad, d⟩ in the real inner product that matches the gradient convention."""
    return float(np.real(np.sum(np.conj(np.asarray(grad, np.complex128)) * d)))


class _Worst:
    """The worst of many comparisons, by how far each exceeds its tolerance."""

    def __init__(self):
        self.excess = None
        self.report = None
        self.failures = 0
        self.count = 0

    def add(self, error, bound, report, count=1, failures=None):
        """One comparison (or ``count`` of them, ``failures`` failing, reported by their
        worst: ``error`` against its tolerance ``bound``)."""
        excess = error - bound
        self.count += count
        self.failures += (excess > 0) if failures is None else failures
        if self.excess is None or excess > self.excess:
            self.excess, self.report = excess, report

    def message(self):
        if self.failures == 0:
            return None
        return f"{self.report} ({self.failures} of {self.count} checks disagree)"


def _tolerances(x, atol, rtol):
    a_tol, r_tol = _tolerance(np.result_type(primal(x)))
    return (a_tol if atol is None else atol), (r_tol if rtol is None else rtol)


# ---------------------------------------------------------------------------------------------
# check_grads
# ---------------------------------------------------------------------------------------------

def check_grads(f, *args, modes=("reverse", "forward"), order=1, eps=None, atol=None,
                rtol=None, seed=0):
    """Check every mode of differentiation of ``f`` at ``args`` against central finite
    differences, up to ``order``. Raises AssertionError reporting the worst mismatch."""
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


def _reverse_cotangents(problem):
    _, back = api.pullback(problem.f, *problem.args)
    return flatten(back(problem.cotangent()))[0]


def _against_finite_differences(problem, mode, rng, eps, atol, rtol, by="AD"):
    """The report of the worst disagreement with finite differences, or None. The numbers
    compared are derivatives of ⟨v, f⟩ for the problem's random output cotangent v."""
    grads = _reverse_cotangents(problem) if mode == "reverse" else None
    worst = _Worst()
    for i in problem.diff:
        x = problem.leaves[i]
        dtype = np.result_type(primal(x))
        a_tol, r_tol = _tolerances(x, atol, rtol)
        step = eps if eps is not None else (1e-3 if dtype in (np.float32, np.complex64) else 1e-6)
        if mode == "reverse":
            _check_type(grads[i], x, problem.names[i])
        for where, d in problem.directions(i, rng):
            numeric = problem.finite_difference(i, d, step)
            if mode == "reverse":
                analytic = _directional(grads[i], d)
            else:
                y, dy = forward_api.jvp(problem.f, problem.args, problem.tangents_for(i, d))
                _check_tangent_shapes(y, dy)
                analytic = _pairing(dy, problem.v)
            if not (np.isfinite(analytic) and np.isfinite(numeric)):
                # NaN compares false with everything: without this a NaN on both sides passes.
                raise AssertionError(
                    f"{mode}-mode check of {problem.names[i]} at {where}: {by} gives "
                    f"{analytic!r} and finite differences {numeric!r}; pick a point where "
                    "the function is differentiable")
            error = abs(analytic - numeric)
            worst.add(error, a_tol + r_tol * abs(numeric),
                      f"at {where}: {by} gives {analytic:.10g}, finite differences "
                      f"{numeric:.10g} (|error| {error:.3g})")
    failure = worst.message()
    return failure and failure + "; derivatives of ⟨v, output⟩ for a random v"


def _check_tangent_shapes(y, dy):
    """Each output tangent must have its output's shape (a broadcast product would hide a
    tangent that lost it)."""
    for k, (out, t) in enumerate(zip(flatten(y)[0], flatten(dy)[0])):
        if t is not None and np.shape(t) != np.shape(primal(out)):
            raise AssertionError(
                f"forward mode: the tangent of output {k} has shape {np.shape(t)}, but the "
                f"output has shape {np.shape(primal(out))}")


def _check_type(g, x, name):
    px = primal(x)
    if isinstance(px, np.ndarray):
        if not isinstance(g, np.ndarray) or g.shape != px.shape or g.dtype != px.dtype:
            raise AssertionError(
                f"gradient of {name} should be an array of shape {px.shape} and "
                f"dtype {px.dtype}, got {type(g).__name__} "
                f"{getattr(g, 'shape', '')} {getattr(g, 'dtype', '')}"
            )
    elif type(px) is float and type(g) is not float:
        raise AssertionError(f"gradient of float argument {name} is {type(g).__name__}")


# ---------------------------------------------------------------------------------------------
# check_rrule / check_frule
# ---------------------------------------------------------------------------------------------

def check_rrule(fn, *args, atol=None, rtol=None, seed=0, **kwargs):
    """Check the reverse rule that applies to ``fn(*args, **kwargs)``: its value against the
    plain call, its cotangents against central finite differences and, where the call has an
    implementation (a ``wg.primitive``'s body, an ndarray subclass's own NumPy override),
    against reverse-mode AD through that implementation. Raises AssertionError reporting the
    worst mismatch of each failed comparison. ``atol``, ``rtol`` and ``seed`` belong to the
    check; every other keyword argument is passed to ``fn``."""
    rng = np.random.default_rng(seed)
    call, problem, title = _prepare(fn, args, kwargs, reverse_rules, "reverse", rng)
    try:
        value, back = api.pullback(call, *args)
        cotangents = flatten(back(problem.cotangent()))[0]
        grads_failure = _against_finite_differences(problem, "reverse", rng, None, atol, rtol,
                                                    by="the rule")
    except DifferentiationError as error:
        raise AssertionError(f"{title} failed: {error}") from error
    failures = [_value_report(value, problem, atol, rtol)]
    if grads_failure:
        failures.append(f"its cotangents disagree with central finite differences: "
                        f"{grads_failure}")
    impl = _implementation(fn, args, kwargs)
    try:
        # The implementation may be what AD cannot go through (that may be why the rule
        # exists): then finite differences are the only reference.
        expected = impl and flatten(api.pullback(impl, *args)[1](problem.cotangent()))[0]
    except DifferentiationError:
        expected = None
    if expected is not None:
        failures.append(_cotangent_report(problem, cotangents, expected, atol, rtol))
    _raise_if_any(title, failures)


def check_frule(fn, *args, atol=None, rtol=None, seed=0, **kwargs):
    """Check the forward rule that applies to ``fn(*args, **kwargs)``: its value against the
    plain call, its output tangents against central finite differences and, where the call
    has an implementation, against forward-mode AD through it, one input coordinate (or
    random direction) at a time. Raises AssertionError reporting the worst mismatch."""
    rng = np.random.default_rng(seed)
    call, problem, title = _prepare(fn, args, kwargs, forward_rules, "forward", rng)
    try:
        tangents = tuple(unflatten(problem.treedef, [
            _random_like(x, rng) if is_differentiable(x) else None for x in problem.leaves]))
        value, _ = forward_api.jvp(call, args, tangents)
        fd_failure = _against_finite_differences(problem, "forward", rng, None, atol, rtol,
                                                 by="the rule")
    except DifferentiationError as error:
        raise AssertionError(f"{title} failed: {error}") from error
    failures = [_value_report(value, problem, atol, rtol)]
    if fd_failure:
        failures.append(f"its tangents disagree with central finite differences: {fd_failure}")
    impl = _implementation(fn, args, kwargs)
    if impl is not None:
        try:
            failures.append(_tangent_report(problem, call, impl, rng, atol, rtol))
        except DifferentiationError:
            pass   # AD cannot go through the implementation: finite differences decide
    _raise_if_any(title, failures)


def _prepare(fn, args, kwargs, table, mode, rng):
    """The call as a function of the positional arguments, the problem, and the title of
    reports; an AssertionError when no rule of this mode applies."""
    types = ", ".join(type(primal(a)).__name__ for a in args)
    title = f"the {mode} rule of {name_of(fn)}({types})"
    if table.lookup(fn, args) is None:
        raise AssertionError(
            f"no {mode} rule applies to {name_of(fn)} on argument types ({types}): none is "
            f"registered for them, or they are opted out (register one with "
            f"@wg.{'rrule' if mode == 'reverse' else 'frule'}({name_of(fn)}, *types))."
        )

    def call(*a):
        return fn(*a, **kwargs)

    names = _leaf_names(getattr(fn, "__wrapped__", fn), args)
    return call, _Problem(call, args, rng, names), title


def _implementation(fn, args, kwargs):
    """What the call runs without a rule, as a function AD can go through; None if opaque."""
    body = implementations.get(fn)
    if body is not None:
        return lambda *a: body(*a, **kwargs)
    if _own_override(fn, args, kwargs) is None:
        return None
    return lambda *a: _own_override(fn, a, kwargs)()


def _value_report(value, problem, atol, rtol):
    """Compare the value a rule returns with the plain call's (``problem.out_leaves``)."""
    got = flatten(value)[0]
    if len(got) != len(problem.out_leaves):
        return (f"it returns {len(got)} outputs where the plain call returns "
                f"{len(problem.out_leaves)}")
    worst = _Worst()
    for k, (g, e) in enumerate(zip(got, problem.out_leaves)):
        _compare_arrays(worst, g, e, f"output {k}" if len(got) > 1 else "output",
                        "the rule", "the plain call", atol, rtol)
    failure = worst.message()
    return f"its value disagrees with the plain call: {failure}" if failure else None


def _cotangent_report(problem, got, expected, atol, rtol):
    worst = _Worst()
    for i in problem.diff:
        _compare_arrays(worst, got[i], expected[i], problem.names[i], "the rule",
                        "AD through the implementation", atol, rtol)
    failure = worst.message()
    return (f"its cotangents disagree with reverse-mode AD through the implementation: "
            f"{failure}; both pulled back from the same random v") if failure else None


def _tangent_report(problem, call, impl, rng, atol, rtol):
    worst = _Worst()
    for i in problem.diff:
        for where, d in problem.directions(i, rng):
            tangents = problem.tangents_for(i, d)
            _, got = forward_api.jvp(call, problem.args, tangents)
            _, expected = forward_api.jvp(impl, problem.args, tangents)
            for k, (g, e) in enumerate(zip(flatten(got)[0], flatten(expected)[0])):
                label = f"output {k}" if len(problem.out_leaves) > 1 else "output"
                _compare_arrays(worst, g, e, label, "the rule", "AD through the implementation",
                                atol, rtol, context=f"for a tangent on {where}, ")
    failure = worst.message()
    return (f"its tangents disagree with forward-mode AD through the implementation: "
            f"{failure}") if failure else None


def _compare_arrays(worst, got, expected, name, got_by, expected_by, atol, rtol, context=""):
    """Add every element of ``got`` against ``expected`` to ``worst``, reported by the
    worst one (named ``name[index]``)."""
    got_a = np.asarray(primal(got))
    expected_a = np.asarray(primal(expected))
    if got_a.shape != expected_a.shape:
        worst.add(np.inf, 0.0, f"{context}{name}: {got_by} gives shape {got_a.shape}, "
                               f"{expected_by} gives shape {expected_a.shape}")
        return
    if got_a.size == 0:
        return
    a_tol, r_tol = _tolerances(expected_a, atol, rtol)
    error = np.abs(got_a.astype(np.complex128) - expected_a.astype(np.complex128))
    bound = a_tol + r_tol * np.abs(expected_a)
    k = int(np.argmax(error - bound))
    worst.add(float(error.flat[k]), float(bound.flat[k]),
              f"{context}at {_at(name, got_a.shape, k)}: {got_by} gives {got_a.flat[k]:.10g}, "
              f"{expected_by} {expected_a.flat[k]:.10g} (|error| {error.flat[k]:.3g})",
              count=got_a.size, failures=int(np.count_nonzero(error > bound)))


def _raise_if_any(title, failures):
    failures = [f for f in failures if f]
    if failures:
        raise AssertionError(f"{title} is wrong:\n  - " + "\n  - ".join(failures))
