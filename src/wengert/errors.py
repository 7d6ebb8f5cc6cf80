"""The one exception wengert raises for anything it cannot differentiate."""


class DifferentiationError(TypeError):
    """A value or call that cannot be differentiated, with what, where and the way out.

    It subclasses TypeError because most causes are a traced value handed to code that
    wants a concrete one (``float(x)``, ``np.asarray(x)``, ``math.exp(x)``).
    """


WAYS_OUT = (
    "Ways out: register a rule with @wg.rrule(fn) (and @wg.frule), wrap the code in a "
    "@wg.primitive with its own rule, or cut the derivative on purpose with wg.stop_gradient(x)."
)


def no_rule(fn, mode="reverse"):
    from .registry import forward_rules, name_of, reverse_rules  # the registry imports us

    other = "reverse" if mode == "forward" else "forward"
    has_other = fn in (reverse_rules if other == "reverse" else forward_rules).entries
    what = f"no {mode}-mode rule" + (
        f" (it has a {other}-mode one)" if has_other else " (no derivative rule at all)")
    return DifferentiationError(
        f"wengert has {what} for {name_of(fn)}, which was called on a traced value. "
        + WAYS_OUT
    )
