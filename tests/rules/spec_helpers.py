"""Helpers shared by the shape-function spec tables (test_shapes.py, test_joins.py)."""
import numpy as np


def random_args(shapes, dtype, rng):
    """One random array per shape, complex where the dtype is."""
    args = []
    for shape in shapes:
        x = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(shape)
        args.append(np.asarray(x, dtype=dtype))
    return args


def sin_of_each(out):
    """A nonlinear function after a linear one, so that second derivatives exercise the
    linear rule's pullback on traced cotangents."""
    return [np.sin(o) for o in out] if isinstance(out, (list, tuple)) else np.sin(out)
