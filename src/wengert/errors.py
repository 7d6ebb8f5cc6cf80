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


def no_rule(fn_name):
    return DifferentiationError(
        f"wengert has no derivative rule for {fn_name}, which was called on a traced value. "
        + WAYS_OUT
    )
