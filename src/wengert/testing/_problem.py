"""What the checks share: a function paired with a random output cotangent v,
``L(x) = Re⟨v, f(x)⟩``, its central finite differences in float64 beside AD's derivative in
either mode, tolerances, and the report of the worst mismatch."""
import inspect

import numpy as np

from .. import api, forward_api
from ..core.levels import primal
from ..tree import flatten, is_differentiable, unflatten

_FULL_CHECK_SIZE = 40


def _tolerance(dtype):
    return (2e-2, 2e-3) if np.dtype(dtype) in (np.float32, np.complex64) else (1e-5, 1e-5)


def _as_float64(x):
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind in "fc":
        return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
    return x


def _pairing(out, v):
    """Re⟨v, out⟩ over the output's leaves; a leaf with no tangent (an integer output such as
    lu_factor's pivots: its v or its tangent is None) takes no part."""
    return float(sum(np.real(np.sum(np.conj(vi) * np.asarray(oi)))
                     for vi, oi in zip(v, flatten(out)[0]) if vi is not None and oi is not None))


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
        params = _ufunc_parameters(fn)
    names = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    return [names[i] if i < len(names) else f"args[{i}]" for i in range(count)]


def _ufunc_parameters(fn):
    """A ufunc's inputs as NumPy 2.4 and later name them (``x``, or ``x1, x2, ...``): older
    NumPy gives ufuncs no signature, and a report should read the same on every version."""
    if not isinstance(fn, np.ufunc):
        return []
    names = ["x"] if fn.nin == 1 else [f"x{i}" for i in range(1, fn.nin + 1)]
    return [inspect.Parameter(name, inspect.Parameter.POSITIONAL_ONLY) for name in names]


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
