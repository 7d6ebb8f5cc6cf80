"""How a scipy.special function is declared (used by scipy_special.py and
scipy_special_more.py): ``smooth`` and ``several`` are ``elementwise`` for any number of
arguments and outputs; a ``Fixed`` argument has no derivative (the order v of jv), and a traced
one is an error saying why; ``near`` switches to a series where a formula would give 0/0.
"""
import numpy as np

from ..errors import DifferentiationError, name_of
from ..registry import forward_rules, reverse_rules
from ._helpers import (ZERO, add, elementwise, forward, is_complex, is_zero,
                       push_partial, reverse, times_partial, to_dense, unbroadcast)


# --- Declaring a special function -----------------------------------------------------------------

class Fixed:
    """An argument the function is not differentiated in; ``why`` completes "it is ..."."""

    def __init__(self, name, why):
        self.name, self.why = name, why

    def error(self, fn):
        return DifferentiationError(
            f"{name_of(fn)} was called with its argument {self.name} traced, but wengert has "
            f"no derivative in {self.name}: it is {self.why}. Pass {self.name} as a constant, "
            f"or cut its derivative on purpose with wg.stop_gradient({self.name}).")


def order(name="v"):
    return Fixed(name, "an order, in which the derivative has no closed form")


def integer(name="n"):
    return Fixed(name, "an integer (a degree or a count)")


def parameter(name):
    return Fixed(name, "a parameter in which the derivative has no closed form")


def smooth(fn, *partials, singular=False, real=None, call=None):
    """``elementwise`` for any number of arguments; a ``Fixed`` partial marks an argument with
    no derivative. ``real`` (the reason) refuses traced complex arguments SciPy accepts but the
    rule cannot take. ``call`` computes the values of a function reached through a door (the
    door itself: arguments may be tracers of outer levels)."""
    plain = [None if type(p) is Fixed else p for p in partials]
    if len(plain) <= 2 and not real and call is None:
        elementwise(fn, *plain, singular=singular)   # the tape's fast elementwise nodes
    else:
        _declare(fn, [p if p is None else _one_output(p) for p in plain], singular, call or fn)
    _refuse(fn, partials, real)


def several(fn, *partials, singular=False, real=None):
    """A function of several outputs: ``partials[i](*args, outs)``, all outputs' derivatives."""
    _declare(fn, [None if type(p) is Fixed else p for p in partials], singular, fn, True)
    _refuse(fn, partials, real)


def _one_output(partial):
    if callable(partial):
        return lambda *args: (partial(*args[:-1], args[-1][0]),)
    return lambda *args: (partial,)   # a constant


def _declare(fn, partials, singular, call, several=False):
    """The rules from ``partials[i](*args, outs)`` (None: argument i has no derivative)."""
    @reverse(fn)
    def special_rule(needs, *args, **kwargs):
        value = call(*args, **kwargs)
        outs = value if several else (value,)

        def special_pullback(cts):
            grads = []
            for need, partial, x in zip(needs, partials, args):
                g = ZERO
                if need and partial is not None:
                    for ct, d, out in zip(cts if several else (cts,), partial(*args, outs), outs):
                        if not is_zero(ct):
                            g = add(g, times_partial(ct, lambda *_, d=d: d, args, out, singular))
                grads.append(g if is_zero(g) else unbroadcast(x, _where(g, kwargs)))
            return tuple(grads)

        return value, special_pullback

    @forward(fn)
    def special_forward(tangents, *args, **kwargs):
        value = call(*args, **kwargs)
        outs = value if several else (value,)
        dys = [ZERO] * len(outs)
        for t, partial, x in zip(tangents, partials, args):
            if partial is not None and not is_zero(t):
                for k, d in enumerate(partial(*args, outs)):
                    dys[k] = add(dys[k], push_partial(to_dense(t), lambda *_, d=d: d, x, args,
                                                      outs[k], singular))
        dys = tuple(dy if is_zero(dy) else _where(dy, kwargs) for dy in dys)
        return value, dys if several else dys[0]


def _where(g, kwargs):
    where = kwargs.get("where", True)
    return g if where is True else np.where(where, g, 0)


def _refuse(fn, partials, real):
    """``fn``'s rules refuse a traced ``Fixed`` (or, for ``real``, complex) argument at once."""
    fixed = {i: p for i, p in enumerate(partials) if type(p) is Fixed}
    if fixed or real:
        for table, traced in ((reverse_rules, bool), (forward_rules, lambda t: not is_zero(t))):
            rule = table.entries[fn][-1]
            rule.impl = _checked(fn, rule.impl, fixed, real, traced)


def _checked(fn, impl, fixed, real, traced):
    def checked(marks, *args, **kwargs):
        for i, mark in enumerate(marks):
            if traced(mark) and i in fixed:
                raise fixed[i].error(fn)
            if traced(mark) and real and is_complex(args[i]):
                raise DifferentiationError(
                    f"{name_of(fn)} is differentiated for real arguments only: {real}. "
                    "Differentiate its real and imaginary parts separately, or cut the "
                    "derivative on purpose with wg.stop_gradient.")
        return impl(marks, *args, **kwargs)

    return checked


def near(x, point, radius, series, formula):
    """``series(x)`` (a function, or Taylor coefficients at ``point``) within ``radius`` of
    ``point``, where ``formula(x)`` would cancel or divide 0 by 0, ``formula(x)`` elsewhere.
    Each branch sees only its own points: neither makes a NaN for np.where's derivative."""
    series = series if callable(series) else (lambda x, c=series: polynomial(c, x - point))
    close = np.abs(x - point) < radius
    return np.where(close, series(np.where(close, x, point)),
                    formula(np.where(close, point + radius, x)))


def polynomial(coefficients, u):
    total = 0.0
    for c in reversed(coefficients):
        total = total * u + c
    return total
