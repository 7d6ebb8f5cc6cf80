import warnings

import pytest


@pytest.fixture(autouse=True)
def no_numpy_fallback():
    """Dask runs a NumPy function it does not implement on the computed array, with only a
    warning: in these tests that is an error, since differentiating must compute nothing."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*is not implemented by Dask array")
        yield
