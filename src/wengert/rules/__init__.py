"""The library's rules; importing this package registers them all."""
from . import ufuncs, reductions, sums, cumulative, shapes, placement, joins  # noqa: F401
from . import indexing, products, contractions, einsum, quantiles, statistics  # noqa: F401
from . import solves, linalg, decompositions, eig, norms, composites, fft  # noqa: F401
from . import ufuncs_more, differences, callbacks, polynomials, sets, histograms  # noqa: F401
from . import nan_functions, numpy_more, updates, census  # noqa: F401
from . import _reach  # noqa: F401  (optional libraries' rules load when they are imported)
