"""Average, covariance and correlation, differentiated through their definitions (see
``derived_through``): average, cov, corrcoef.

NumPy writes these in Python on ``np.asarray``-converted arguments, so they cannot run on
tracers; each definition here recomputes NumPy's result, step for step where rounding could
differ, from sums and products that wengert differentiates, weights included. NumPy's
checks of the weights read their concrete values and carry no derivative. ``out=`` never
reaches a definition: the tracer's ``__array_function__`` refuses it first. Sorting, median
and quantiles are in ``quantiles``.
"""
import warnings

import numpy as np

from ..core.levels import primal
from ._helpers import as_array, derived_through, dtype_of, zeros_like_value

try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # pragma: no cover - NumPy < 2
    from numpy.core.numeric import normalize_axis_tuple


def cast(x, dtype):
    """``x`` in ``dtype``, without a copy where it already is (works on tracers)."""
    return x if dtype_of(x) == dtype else x.astype(dtype)


# ---------------------------------------------------------------------------------------------
# Average, covariance, correlation: sums and products
# ---------------------------------------------------------------------------------------------


def _weights_along(weights, a_shape, axes):
    """Weights shaped to broadcast against ``a``: the same shape, or one weight per element
    of the averaged axes (NumPy's ``_weights_are_valid``)."""
    w = as_array(weights)
    if np.shape(w) == a_shape:
        return w
    if axes is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    if np.shape(w) != tuple(a_shape[ax] for ax in axes):
        raise ValueError("Shape of weights must be consistent with shape of a along "
                         "specified axis.")
    w = np.transpose(w, tuple(int(i) for i in np.argsort(axes)))
    return np.reshape(w, tuple(s if ax in axes else 1 for ax, s in enumerate(a_shape)))


@derived_through(np.average)
def _average(a, axis=None, weights=None, returned=False, *, keepdims=np._NoValue):
    a = as_array(a)
    axes = None if axis is None else normalize_axis_tuple(axis, np.ndim(a), argname="axis")
    # Without keepdims= NumPy passes none on (a subclass's mean may not take it).
    kept = {} if keepdims is np._NoValue else {"keepdims": keepdims}
    if weights is None:
        average = np.mean(a, axes, **kept)
        dtype = dtype_of(average)
        total = dtype.type(np.size(a) / np.size(average))
    else:
        w = _weights_along(weights, np.shape(a), axes)
        if dtype_of(a).kind in "biu":
            dtype = np.result_type(dtype_of(a), dtype_of(w), "f8")
        else:
            dtype = np.result_type(dtype_of(a), dtype_of(w))
        total = np.sum(cast(w, dtype), axis=axes, **kept)
        if np.any(primal(total) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        average = np.sum(cast(a, dtype) * cast(w, dtype), axis=axes, **kept) / total
    if not returned:
        return average
    if np.shape(total) != np.shape(average):
        total = np.copy(np.broadcast_to(total, np.shape(average)))
    return average, total


def _frequencies_and_weights(fweights, aweights, count):
    """NumPy's checks of cov's weights (on their values) and their product; each may be
    traced, and the derivative follows them as real numbers."""
    w = None
    if fweights is not None:
        fweights = cast(as_array(fweights), np.dtype(float))
        f = primal(fweights)
        if not np.all(f == np.around(f)):
            raise TypeError("fweights must be integer")
        if np.ndim(f) > 1:
            raise RuntimeError("cannot handle multidimensional fweights")
        if np.shape(f)[0] != count:
            raise RuntimeError("incompatible numbers of samples and fweights")
        if np.any(f < 0):
            raise ValueError("fweights cannot be negative")
        w = fweights
    if aweights is not None:
        aweights = cast(as_array(aweights), np.dtype(float))
        v = primal(aweights)
        if np.ndim(v) > 1:
            raise RuntimeError("cannot handle multidimensional aweights")
        if np.shape(v)[0] != count:
            raise RuntimeError("incompatible numbers of samples and aweights")
        if np.any(v < 0):
            raise ValueError("aweights cannot be negative")
        w = aweights if w is None else w * aweights
    return w, aweights


@derived_through(np.cov)
def _cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
         dtype=None):
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = as_array(m)
    y = None if y is None else as_array(y)
    if np.ndim(m) > 2:
        raise ValueError("m has more than 2 dimensions")
    if y is not None and np.ndim(y) > 2:
        raise ValueError("y has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(*(dtype_of(v) for v in (m, y) if v is not None), np.float64)
    dtype = np.dtype(dtype)
    X = cast(np.atleast_2d(m), dtype)
    if not rowvar and np.ndim(m) != 1:
        X = np.transpose(X)
    if np.shape(X)[0] == 0:
        return zeros_like_value(X, shape=(0, 0), dtype=np.float64)   # as NumPy's cov
    if y is not None:
        Y = cast(np.atleast_2d(y), dtype)
        if not rowvar and np.shape(Y)[0] != 1:
            Y = np.transpose(Y)
        X = np.concatenate((X, Y), axis=0)
    if ddof is None:
        ddof = 1 if bias == 0 else 0

    w, aweights = _frequencies_and_weights(fweights, aweights, np.shape(X)[1])
    mean, w_sum = np.average(X, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    # The normalisation: the observations (or the total weight) less the degrees of freedom.
    if w is None:
        fact = np.shape(X)[1] - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * np.sum(w * aweights) / w_sum
    if fact <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0

    X = X - mean[:, None]
    X_T = np.transpose(X) if w is None else np.transpose(X * w)
    c = np.matmul(X, np.conjugate(X_T))
    # NumPy scales in place, so c keeps its dtype when 1/fact is wider.
    c = cast(c * np.true_divide(1, fact), dtype_of(c))
    return np.squeeze(c)


@derived_through(np.corrcoef)
def _corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = np.cov(x, y, rowvar, dtype=dtype)
    if np.ndim(c) == 0:
        return c / c   # one variable: 1, or NaN where its variance is 0, NaN or infinite
    stddev = np.sqrt(np.real(np.diagonal(c)))
    c = c / stddev[:, None]
    c = c / stddev[None, :]
    # NumPy then clips the real (and imaginary) parts to [-1, 1], which moves only values
    # that rounding pushed past ±1 (the diagonal, perfectly correlated pairs). Not clipped
    # here: at such points correlation is at its extreme, where the smooth formula's
    # derivatives are the right ones (0 in the first order, and the curvature in the
    # second), while a clip would cut them to 0. Values may differ from NumPy's by an ulp.
    return c
