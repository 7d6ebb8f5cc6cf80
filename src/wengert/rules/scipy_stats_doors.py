"""Doors on the methods of scipy.stats distributions, and the pieces their definitions share.

A distribution such as ``scipy.stats.norm`` is an instance of its own class (``norm_gen``),
and its frozen form ``norm(loc, scale)`` keeps a fresh instance of that class and calls its
methods. So a door on the class's method serves every spelling: a call with no traced value
among its arguments runs SciPy's method as it is (the same result, bit for bit); a call with
one runs the distribution's definition, written in NumPy and scipy.special, whose rules give
every derivative to any order in both modes. SciPy's own methods could not run on tracers:
they convert their arguments with ``np.asarray``.

A class's door serves its subclasses too (scipy's ``erlang_gen`` derives from ``gamma_gen``):
a traced call of a distribution with no definition of its own runs SciPy's method, whose
``np.asarray`` raises wengert's error naming the method.
"""
import functools
import inspect

import numpy as np

from ..arraytypes import ATOMS
from ..errors import DifferentiationError
from ..tree import flatten
from ._helpers import Tracer, as_array, dtype_of

# (distribution class, method name) -> its definition, called as SciPy's method is
_definitions = {}


def define(cls, name, definition):
    """Run ``definition(dist, *args, **kwargs)`` for traced calls of ``cls.name``."""
    _definitions[cls, name] = definition
    _open_door(cls, name)


def _open_door(cls, name):
    if getattr(cls.__dict__.get(name), "_scipy_method", None) is not None:
        return   # already a door: the table above says what it runs
    original = getattr(cls, name)
    atoms = ATOMS

    @functools.wraps(original)
    def door(self, *args, **kwargs):
        # The untraced path is the hot one: a type look-up per argument, then SciPy.
        for a in args:
            if type(a) not in atoms and _holds_tracer(a):
                break
        else:
            if not kwargs:
                return original(self, *args)
            for a in kwargs.values():
                if type(a) not in atoms and _holds_tracer(a):
                    break
            else:
                return original(self, *args, **kwargs)
        definition = _definitions.get((type(self), name))
        if definition is None:
            return original(self, *args, **kwargs)
        return definition(self, *args, **kwargs)

    door._scipy_method = original
    setattr(cls, name, door)


def _holds_tracer(value):
    return isinstance(value, Tracer) or any(isinstance(leaf, Tracer)
                                            for leaf in flatten(value)[0])


def holds_tracer(value):
    return type(value) not in ATOMS and _holds_tracer(value)


# --- arguments -----------------------------------------------------------------------------

def shape_names(dist):
    """The names of a distribution's shape parameters, in SciPy's order."""
    return tuple(s.strip() for s in dist.shapes.split(",")) if dist.shapes else ()


@functools.cache
def _signature(names, defaults):
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter(n, kind) for n in names]
    parameters += [inspect.Parameter(n, kind, default=d) for n, d in defaults]
    return inspect.Signature(parameters)


def arguments(dist, method, args, kwargs, names, defaults):
    """The call's arguments by name, as SciPy's methods read them (shapes by position or by
    name, then loc and scale), each an array or a tracer."""
    try:
        bound = _signature(names, defaults).bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{describe(dist, method)}(): {error}") from None
    bound.apply_defaults()
    return {name: as_array(value) for name, value in bound.arguments.items()}


def describe(dist, method):
    return f"scipy.stats.{dist.name}.{method}"


def refuse_traced(dist, method, values, names, why, way_out):
    """A DifferentiationError if any of ``names`` holds a traced value."""
    for name in names:
        if holds_tracer(values[name]):
            raise DifferentiationError(
                f"{describe(dist, method)} is not differentiable in {name}: {why} "
                f"{way_out.format(name=name)}")


def at_least_float64(x):
    """``x`` in SciPy's result dtype for distributions: float64, or wider."""
    dtype = np.promote_types(dtype_of(x), np.float64)
    return x if dtype_of(x) == dtype else x.astype(dtype)


def logical_and(*masks):
    return functools.reduce(np.logical_and, masks)
