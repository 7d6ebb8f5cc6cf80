"""``primitive`` and ``non_differentiable``: how a Python function becomes one step for AD.

A primitive's calls enter ``bind`` (the core's one door); its body is kept in the registry's
``implementations``, which AD runs when no rule applies.
"""
import functools

import numpy as np

from .core.bind import bind
from .registry import implementations, mark_non_differentiable


def primitive(f):
    """Make calls of ``f`` one step for AD: rules registered for it apply; without one, AD
    goes through its body. Works on methods too (``self`` is an ordinary argument)."""
    @functools.wraps(f)
    def call(*args, **kwargs):
        return bind(call, args, kwargs)

    implementations[call] = f
    return call


def non_differentiable(*fns):
    """Calls of these functions return plain values that carry no tangent.

    NumPy functions, ufuncs and ``wg.primitive`` functions are marked in place: their calls
    reach ``bind``, which strips the tracers. A plain Python function is called directly, not
    through ``bind``, so marking it alone would change nothing: a single one is wrapped in a
    primitive, and the wrapper is returned (use it as a decorator, or rebind the name).
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
