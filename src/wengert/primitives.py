"""``primitive`` and ``non_differentiable``: how a Python function becomes one step for AD.

A primitive's calls enter ``bind`` (the core's one door); its body is kept in the registry's
``implementations``, which AD runs when no rule applies.
"""
import functools

import numpy as np

from .core.bind import bind
from .registry import implementations, mark_non_differentiable


def primitive(f):
    """Make calls of ``f`` one step for AD, so that rules can be registered for it.

    Rules registered with ``wg.rrule`` / ``wg.frule`` for the returned function apply to its
    calls; without one, AD goes through ``f``'s body as before. Works on methods too
    (``self`` is an ordinary first argument, whose fields are followed like a dataclass's).
    Arguments may be arrays, numbers, and trees of them; only positional arguments get
    cotangents (a traced value passed by keyword is moved to its position when the
    signature allows; a traced keyword-only argument is a ``DifferentiationError`` at call
    time).

    Parameters
    ----------
    f : callable
        The function.

    Returns
    -------
    callable
        A function with ``f``'s name, signature and docstring; ``f`` is its ``__wrapped__``.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> @wg.primitive
    ... def softplus(x):
    ...     return np.log1p(np.exp(x))
    >>> @wg.rrule(softplus)
    ... def softplus_rrule(x):
    ...     def softplus_pullback(dy):
    ...         return (dy / (1 + np.exp(-x)),)
    ...     return np.logaddexp(0.0, x), softplus_pullback
    >>> print(wg.gradient(softplus, 1000.0))   # AD of the body would give nan
    (1.0,)
    """
    @functools.wraps(f)
    def call(*args, **kwargs):
        return bind(call, args, kwargs)

    implementations[call] = f
    return call


def non_differentiable(*fns):
    """Make calls of these functions return plain values that carry no tangent, at any level.

    NumPy functions, ufuncs and ``wg.primitive`` functions are marked in place: their calls
    reach ``bind``, which strips the tracers. A plain Python function is called directly, not
    through ``bind``, so marking it alone would change nothing: a single one is wrapped in a
    primitive, and the wrapper is returned (use it as a decorator, or rebind the name).

    Parameters
    ----------
    *fns : callable
        The functions.

    Returns
    -------
    The function itself (NumPy functions, ufuncs, primitives), the wrapper (one plain
    Python function), or the tuple ``fns`` (several).

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> @wg.non_differentiable
    ... def step_size(x):
    ...     return 0.1 / np.max(np.abs(x))
    >>> print(wg.gradient(lambda x: step_size(x) * np.sum(x), np.array([1.0, -2.0]))[0])
    [0.05 0.05]
    """
    mark_non_differentiable(*fns)
    if len(fns) != 1:
        return fns
    fn = fns[0]
    if fn in implementations or _reached_through_numpy(fn):
        return fn
    wrapper = primitive(fn)
    mark_non_differentiable(wrapper)
    return wrapper


def _reached_through_numpy(fn):
    """Whether calls of ``fn`` on tracers arrive at ``bind`` by NumPy's own dispatch."""
    if isinstance(fn, np.ufunc) or type(fn).__name__ == "_ArrayFunctionDispatcher":
        return True
    module = getattr(fn, "__module__", None) or ""
    return module == "numpy" or module.startswith("numpy.")
