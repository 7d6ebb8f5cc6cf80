"""NumPy functions differentiated through their definitions (see ``derived_through``).

NumPy writes these in Python on top of ``np.asarray``, which a tracer refuses. Each is
restated here with the steps NumPy takes, as calls that carry rules (arithmetic, indexing,
concatenation, matmul), so both modes and every order come from those rules. Decisions that
carry no derivative (where a point falls in ``np.interp``, shapes) read the plain values.
"""
import operator

import numpy as np

from ..core.levels import primal
from ..errors import DifferentiationError
from ._helpers import arange_like, as_array, derived_through, zeros_like_value


def _along(axis, ndim, index):
    """An index tuple applying ``index`` on ``axis`` of an ``ndim``-dimensional array."""
    return (slice(None),) * (axis % ndim) + (index,)


_LATER = slice(1, None)
_EARLIER = slice(None, -1)


@derived_through(np.diff)
def _diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    ndim = np.ndim(a)
    axis %= ndim
    blocks = []
    for edge in (prepend, a, append):
        if edge is np._NoValue:
            continue
        if edge is not a and np.ndim(edge) == 0:   # a scalar edge is one slice of the axis
            shape = list(np.shape(a))
            shape[axis] = 1
            edge = np.broadcast_to(edge, tuple(shape))
        blocks.append(edge)
    if len(blocks) > 1:
        a = np.concatenate(blocks, axis=axis)
    for _ in range(n):
        a = a[_along(axis, ndim, _LATER)] - a[_along(axis, ndim, _EARLIER)]
    return a


@derived_through(np.trapezoid)
def _trapezoid(y, x=None, dx=1.0, axis=-1):
    ndim = np.ndim(y)
    if x is None:
        widths = dx
    elif np.ndim(x) == 1:   # one grid for every line along the axis
        shape = [1] * ndim
        shape[axis] = -1
        widths = np.reshape(np.diff(x), shape)
    else:
        widths = np.diff(x, axis=axis)
    heights = y[_along(axis, ndim, _LATER)] + y[_along(axis, ndim, _EARLIER)]
    return np.sum(widths * heights / 2.0, axis=axis)


@derived_through(np.polyval)
def _polyval(p, x):
    # Horner's scheme, as NumPy evaluates it (so the values agree to the last bit).
    y = np.zeros_like(x)
    for coefficient in p:
        y = y * x + coefficient
    return y


@derived_through(np.interp)
def _interp(x, xp, fp, left=None, right=None, period=None):
    if period is not None:
        raise DifferentiationError(
            "np.interp(..., period=...) has no traced definition in wengert. Reduce x into "
            "one period first (np.mod) and interpolate without period=, or register a "
            "wg.rrule for np.interp.")
    xp, fp = as_array(xp), as_array(fp)
    at, knots = primal(x), primal(xp)
    below, above = at < knots[0], at > knots[-1]
    left = fp[0] if left is None else left
    right = fp[-1] if right is None else right
    if len(knots) == 1:
        inside = np.broadcast_to(fp[0], np.shape(at))
    else:
        # The segment [xp[i], xp[i+1]] holding x: where it falls carries no derivative.
        i = np.clip(np.searchsorted(knots, at, side="right") - 1, 0, len(knots) - 2)
        x0, f0 = xp[i], fp[i]
        inside = f0 + (fp[i + 1] - f0) / (xp[i + 1] - x0) * (x - x0)
    return np.where(below, left, np.where(above, right, inside))


@derived_through(np.linspace)
def _linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
              device=None):
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    divisions = num - 1 if endpoint else num
    span = stop - start
    counts = np.reshape(arange_like(num, span, dtype=np.result_type(primal(span), float)),
                        (-1,) + (1,) * np.ndim(span))
    step = span / divisions if divisions > 0 else np.nan * span
    y = start + counts * (step if divisions > 0 else span)
    if endpoint and num > 1:   # the last sample is exactly stop, as in NumPy
        last = np.broadcast_to(stop, np.shape(span))
        y = np.concatenate([y[:-1], np.reshape(last, (1,) + np.shape(span))])
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    if dtype is not None:
        y = y.astype(dtype)
    return (y, step) if retstep else y


@derived_through(np.meshgrid)
def _meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    shapes = [(1,) * i + (-1,) + (1,) * (ndim - i - 1) for i in range(ndim)]
    if indexing == "xy" and ndim > 1:   # Cartesian: the first two axes trade places
        shapes[0], shapes[1] = (1, -1) + (1,) * (ndim - 2), (-1, 1) + (1,) * (ndim - 2)
    grids = [np.reshape(x, shape) for x, shape in zip(xi, shapes)]
    if not sparse:
        grids = [np.copy(g) for g in np.broadcast_arrays(*grids)]
    return tuple(grids)


@derived_through(np.vander)
def _vander(x, N=None, increasing=False):
    if np.ndim(x) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    columns = [np.ones_like(primal(x))]
    for _ in range(1, len(primal(x)) if N is None else N):
        columns.append(columns[-1] * x)   # products, not powers: smooth at x = 0
    columns = columns[:len(primal(x)) if N is None else N]
    return np.stack(columns if increasing else columns[::-1], axis=1)


@derived_through(np.nan_to_num)
def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    values = primal(x)
    kind = np.result_type(values).kind
    if kind not in "fc":
        return x
    if kind == "c":
        return (_nan_to_num(np.real(x), nan=nan, posinf=posinf, neginf=neginf)
                + 1j * _nan_to_num(np.imag(x), nan=nan, posinf=posinf, neginf=neginf))
    largest = np.finfo(np.result_type(values)).max
    posinf = largest if posinf is None else posinf
    neginf = -largest if neginf is None else neginf
    # Finite values pass through (derivative 1); replaced ones are constants.
    return np.where(np.isnan(values), nan, np.where(np.isposinf(values), posinf,
                                                    np.where(np.isneginf(values), neginf, x)))


@derived_through(np.linalg.multi_dot)
def _multi_dot(arrays, *, out=None):
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    first, *middle, last = arrays
    row, column = np.ndim(first) == 1, np.ndim(last) == 1
    if row:
        first = np.reshape(first, (1, -1))
    if column:
        last = np.reshape(last, (-1, 1))
    # Left to right; NumPy picks the cheapest order, which changes rounding only.
    product = first
    for matrix in (*middle, last):
        product = product @ matrix
    if row and column:
        return product[0, 0]
    return product[0] if row else product[:, 0] if column else product


@derived_through(np.linalg.cond)
def _cond(x, p=None):
    if p is None or p in (2, -2):
        s = np.linalg.svdvals(x)
        return s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    axes = (-2, -1)
    return np.linalg.norm(x, p, axis=axes) * np.linalg.norm(np.linalg.inv(x), p, axis=axes)


def _full_convolution(a, v):
    """Σ_i a[i] v[k - i] for every k: rows of shifted windows of the zero-padded ``a``
    (a gather, whose rule is indexing) times ``v`` reversed."""
    n, m = len(primal(a)), len(primal(v))
    zeros = zeros_like_value(a, shape=m - 1)
    padded = np.concatenate([zeros, a, zeros])
    # The windows' positions are an index array, used only for indexing: NumPy's own.
    windows = padded[np.arange(n + m - 1)[:, None] + np.arange(m)[None, :]]
    return windows @ v[::-1]


def _mode_slice(full, n, m, mode):
    """NumPy's ``same`` and ``valid`` parts of a full convolution of lengths n and m."""
    if mode == "full":
        return full
    short, long = min(n, m), max(n, m)
    if mode == "same":
        start = (short - 1) // 2
        return full[start:start + long]
    if mode == "valid":
        return full[short - 1:long]
    raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")


@derived_through(np.convolve)
def _convolve(a, v, mode="full"):
    n, m = len(primal(a)), len(primal(v))
    if n == 0 or m == 0:
        raise ValueError("a cannot be empty" if n == 0 else "v cannot be empty")
    return _mode_slice(_full_convolution(a, v), n, m, mode)


@derived_through(np.correlate)
def _correlate(a, v, mode="valid"):
    # c[k] = Σ_n a[n + k] conj(v[n]): a convolution with v conjugated and reversed. With
    # the shorter sequence first NumPy correlates the other way round and flips the result,
    # which centres the ``same`` part differently.
    n, m = len(primal(a)), len(primal(v))
    if n < m:
        return np.conjugate(_correlate(v, a, mode))[::-1]
    return _mode_slice(_full_convolution(a, np.conjugate(v)[::-1]), n, m, mode)
