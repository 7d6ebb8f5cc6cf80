import os

# One BLAS thread: the tests' matrices are small, and a BLAS thread pool on a busy machine
# turns a 3x3 solve from microseconds into milliseconds. Set before NumPy loads BLAS.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np
import pytest

from wengert.registry import _non_differentiable, forward_rules, reverse_rules

# SciPy's support registers rules when a SciPy module is first imported. Import them all
# now, before any test: a module first imported inside a test would have its rules removed
# with that test's (registry_restored) while it stays imported.
try:
    import scipy.fft, scipy.integrate, scipy.linalg, scipy.signal, scipy.special  # noqa: F401
    import scipy.stats  # noqa: F401
except ImportError:   # SciPy is optional
    pass
try:   # Dask's support likewise loads when dask.array is imported
    import dask.array  # noqa: F401
except ImportError:   # Dask is optional
    pass


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def registry_restored():
    """Rules a test registers (for np.matmul, np.exp, its own primitives) end with it."""
    saved = [(table, {fn: list(rules) for fn, rules in table.entries.items()},
              dict(table.generic)) for table in (reverse_rules, forward_rules)]
    marked = set(_non_differentiable)
    yield
    for table, entries, generic in saved:
        # In place: other modules hold references to these dicts.
        table.entries.clear()
        table.entries.update(entries)
        table.generic.clear()
        table.generic.update(generic)
        table.cache.clear()
    _non_differentiable.clear()
    _non_differentiable.update(marked)
