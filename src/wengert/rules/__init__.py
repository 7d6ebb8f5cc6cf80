"""The library's rules; importing this package registers them all."""
from . import ufuncs, reductions, cumulative, shapes, joins, indexing, products, einsum  # noqa: F401
from . import linalg, decompositions, eig, norms, composites, statistics  # noqa: F401

try:  # SciPy is optional: its rules load only where it is installed.
    import scipy  # noqa: F401
except ImportError:  # pragma: no cover
    pass
