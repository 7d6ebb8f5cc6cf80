"""Views of a traced array that NumPy code asks for: ``x.flat`` and ``x.view(...)``."""
import numpy as np

from ..errors import DifferentiationError
from .levels import Tracer, primal
from .mutation import assign


class Flat:
    """``x.flat`` of a traced ``x``: reading ``x.flat[i]`` is ``np.ravel(x)[i]``, so it is
    differentiated like any indexing; writing ``x.flat[i] = v`` writes those elements of
    ``x`` (a value shorter than the elements is broadcast, not repeated as NumPy does)."""

    __slots__ = ("base",)

    def __init__(self, base):
        self.base = base

    def __getitem__(self, index):
        return np.ravel(self.base)[index]

    def __setitem__(self, index, value):
        # The same elements of x by their coordinates (any kind of flat index), written
        # into x like any other write.
        x = self.base
        positions = np.arange(x.size)[index]
        assign(x, np.unravel_index(positions, x.shape), value, "x.flat[i] = v")

    def __iter__(self):
        return iter(np.ravel(self.base))

    def __len__(self):
        return self.base.size

    def copy(self):
        return np.ravel(self.base).copy()

    def __array__(self, *args, **kwargs):
        raise DifferentiationError(
            "np.asarray(x.flat) of a traced array would drop its derivative. Use np.ravel(x), "
            "which keeps it, or wg.stop_gradient(x).flat for the plain values."
        )


def view(x, dtype, cls):
    """``x.view(dtype, type)``. The tracer already stands for its array, so a view that keeps
    both the dtype and the array type is ``x`` itself: a write through either is seen by
    both, as NumPy's view and base share memory. Reinterpreting the bytes (another
    dtype) or another array type has no derivative: refused, not dropped."""
    if cls is None and isinstance(dtype, type) and issubclass(dtype, (np.ndarray, Tracer)):
        dtype, cls = None, dtype   # x.view(np.ndarray): the first argument names the type
    own_type = cls is None or isinstance(x, cls) or type(primal(x)) is cls
    if dtype is not None and np.dtype(dtype) != x.dtype:
        raise DifferentiationError(
            f"x.view({np.dtype(dtype)}) reinterprets the bytes of a traced {x.dtype} array, "
            "which has no derivative. Use x.astype(dtype) to convert the values "
            "(differentiable), or wg.stop_gradient(x).view(dtype) to read the bytes with the "
            "derivative cut on purpose."
        )
    if not own_type:
        raise DifferentiationError(
            f"x.view({cls.__name__}) would turn a traced {type(primal(x)).__name__} into "
            f"another array type, dropping its derivative. Use x itself (x.view() and "
            f"x.view({type(primal(x)).__name__}) return it), or "
            f"wg.stop_gradient(x).view({cls.__name__}) for a constant."
        )
    return x
