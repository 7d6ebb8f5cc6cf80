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


def name_of(fn):
    """How a function is named in messages: ``np.sin``, ``np.linalg.solve``,
    ``scipy.special.erf``, ``module.f``."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    module = getattr(fn, "__module__", None) or ""
    if type(fn).__name__ == "ufunc":
        # NumPy's ufuncs say nothing of their module; SciPy's (erf, gammaln) are found there.
        return f"scipy.special.{fn.__name__}" if _is_scipy_special(fn) else f"np.{fn.__name__}"
    if module == "numpy" or module.startswith("numpy._"):
        return f"np.{name}"
    if module.startswith("numpy."):
        return "np." + module[len("numpy."):].split("._")[0] + "." + name
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("scipy."):   # scipy.linalg._basic.solve -> scipy.linalg.solve
        module = module.split("._")[0]
    return f"{module}.{name}" if module else name


def _is_scipy_special(ufunc):
    import sys

    special = sys.modules.get("scipy.special")   # loaded only if the program loaded it
    return special is not None and getattr(special, ufunc.__name__, None) is ufunc
