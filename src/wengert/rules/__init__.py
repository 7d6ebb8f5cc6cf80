"""The library's rules; importing this package registers them all."""
from . import ufuncs, reductions, sums, cumulative, shapes, placement, joins  # noqa: F401
from . import indexing, products, contractions, einsum, quantiles, statistics  # noqa: F401
from . import solves, linalg, decompositions, eig, norms, composites  # noqa: F401

try:  # SciPy is optional: its rules load only where it is installed.
    import scipy  # noqa: F401
except ImportError:  # pragma: no cover
    pass
