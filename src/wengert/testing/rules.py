"""``check_rrule`` / ``check_frule``: one rule against finite differences and, where the call
has an implementation AD can go through, against AD of that implementation."""
import numpy as np

from .. import api, forward_api
from ..core.bind import _own_override
from ..core.levels import primal
from ..errors import DifferentiationError, name_of
from ..registry import definitions, forward_rules, implementations, reverse_rules
from ..tree import flatten, is_differentiable, unflatten
from ._problem import (_Problem, _Worst, _against_finite_differences, _at, _leaf_names,
                       _random_like, _tolerances)

def check_rrule(fn, *args, atol=None, rtol=None, seed=0, **kwargs):
    """Check the reverse rule that applies to ``fn(*args, **kwargs)``: its value against the
    plain call, its cotangents against central finite differences and, where the call has an
    implementation (a ``wg.primitive``'s body, an ndarray subclass's own NumPy override),
    against reverse-mode AD through that implementation. ``atol``, ``rtol`` and ``seed``
    belong to the check (as in ``check_grads``); every other keyword argument is passed to
    ``fn``.

    Raises
    ------
    AssertionError
        When no reverse rule applies to these argument types, or reporting the worst
        mismatch of each failed comparison (argument, coordinate, both numbers).

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> @wg.primitive
    ... def cube(x):
    ...     return x ** 3
    >>> @wg.rrule(cube)
    ... def cube_rrule(x):
    ...     return x ** 3, lambda dy: (3 * x ** 2 * dy,)
    >>> wg.testing.check_rrule(cube, np.array([0.5, -1.0, 2.0]))
    """
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
    random direction) at a time. Keywords as for ``check_rrule``.

    Raises
    ------
    AssertionError
        When no forward rule applies to these argument types, or reporting the worst
        mismatch of each failed comparison.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> @wg.primitive
    ... def cube(x):
    ...     return x ** 3
    >>> @wg.frule(cube)
    ... def cube_frule(dx, x):
    ...     return x ** 3, 3 * x ** 2 * dx
    >>> wg.testing.check_frule(cube, np.array([0.5, -1.0, 2.0]))
    """
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
    # A SciPy function is called through its door, whose rules are the original's
    # (``__wrapped__``); a primitive's body has none, so unwrapping cannot hide a gap.
    if (table.lookup(fn, args) is None
            and table.lookup(getattr(fn, "__wrapped__", fn), args) is None):
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
    body = implementations.get(fn) or definitions.get(fn)
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
