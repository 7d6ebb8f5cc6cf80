"""What wengert knows of the values it differentiates, below every other layer.

- ``TracedValue``: the mark of a value whose operations some transformation records. The core
  defines the tracers and derives them from it; the tangent algebra and trees test for it
  here, so they never import the machinery that records.
- ``shape_of``, ``dtype_of``, ``is_complex``: read any value's metadata (arrays, NumPy and
  Python scalars, tracers, sparse tangents) the same way everywhere.
- ``astype``: ``x.astype(dtype)`` as a function, so that the cast can carry rules.
"""
import numpy as np


class TracedValue:
    """Base of every tracer class: its operations are recorded, so it is never written into
    in place. It stands for ``_value``, which may itself be traced by an outer
    transformation."""

    __slots__ = ()


def concrete(x):
    """The value beneath any number of traced layers."""
    while isinstance(x, TracedValue):
        x = x._value
    return x


_NUMBERS = frozenset({float, int, complex, bool})


def shape_of(x):
    shape = getattr(x, "shape", None)
    if shape is not None:
        return shape
    return () if type(x) in _NUMBERS else np.shape(x)


def dtype_of(x):
    dtype = getattr(x, "dtype", None)
    return dtype if dtype is not None else np.result_type(x)


def is_complex(x):
    return dtype_of(x).kind == "c"


def astype(x, dtype):
    """``x.astype(dtype)`` as a function: the tracer's method calls it through the core's
    door, and the rules for casts are registered for it."""
    return x.astype(dtype) if hasattr(x, "astype") else np.asarray(x).astype(dtype)
