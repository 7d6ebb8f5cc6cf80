"""NumPy's polynomial functions (the ``np.poly*`` family and roots), differentiated through
their definitions (see ``derived_through``): coefficient arithmetic is padding, products and
sums; polyfit a weighted linear least-squares problem (``np.linalg.lstsq``'s rule); roots
the eigenvalues of the companion matrix (``np.linalg.eigvals``'s rule). ``np.polyval`` is
in ``composites``.

Decisions NumPy makes from values (leading zeros stripped, the remainder of polydiv trimmed,
real coefficients kept real when roots pair up) are made on the concrete values. Arrays are
supported; ``np.poly1d`` objects store their coefficients through ``np.asarray``, so traced
coefficients cannot live in one (use arrays of coefficients, highest power first).
"""
import warnings

import numpy as np

from ..core.levels import primal
from ._helpers import (arange_like, as_array, derived_through, dtype_of, eye_like, is_complex,
                       ones_like_value, shape_of, zeros_like_value)


def _coefficients(p):
    """A polynomial's coefficients as a 1-d array (as ``np.atleast_1d``)."""
    return np.atleast_1d(as_array(p))


def _padded(p, length):
    """Coefficients with zeros in front, up to ``length`` (the same polynomial)."""
    missing = length - shape_of(p)[0]
    if missing <= 0:
        return p
    return np.concatenate([zeros_like_value(p, shape=(missing,)), p])


def _powers(n, like):
    """n, n − 1, ..., 1: the powers of a polynomial's terms of degree ≥ 1, highest first."""
    return arange_like(n, like)[::-1] + 1


def _aligned(a1, a2):
    a1, a2 = _coefficients(a1), _coefficients(a2)
    length = max(shape_of(a1)[0], shape_of(a2)[0])
    return _padded(a1, length), _padded(a2, length)


@derived_through(np.polyadd)
def _polyadd(a1, a2):
    a1, a2 = _aligned(a1, a2)
    return a1 + a2


@derived_through(np.polysub)
def _polysub(a1, a2):
    a1, a2 = _aligned(a1, a2)
    return a1 - a2


@derived_through(np.polymul)
def _polymul(a1, a2):
    return np.convolve(_coefficients(a1), _coefficients(a2))


@derived_through(np.polyder)
def _polyder(p, m=1):
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = _coefficients(p)
    for _ in range(m):
        n = shape_of(p)[0] - 1
        p = p[:-1] * _powers(n, p)
    return p


@derived_through(np.polyint)
def _polyint(p, m=1, k=None):
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    p = _coefficients(p)
    if k is None:
        k = zeros_like_value(p, shape=(m,), dtype=float)
    k = np.atleast_1d(as_array(k))
    if shape_of(k) == (1,) and m > 1:
        k = np.broadcast_to(k, (m,))
    if shape_of(k)[0] < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    for i in range(m):
        p = np.concatenate([p / _powers(shape_of(p)[0], p), k[i:i + 1]])
    return p


@derived_through(np.polydiv)
def _polydiv(u, v):
    u, v = _coefficients(u) + 0.0, _coefficients(v) + 0.0
    m, n = shape_of(u)[0] - 1, shape_of(v)[0] - 1
    # Long division, one leading coefficient at a time, on lists of 0-d values.
    remainder = [u[i] for i in range(m + 1)]
    divisor = [v[j] for j in range(n + 1)]
    quotient = []
    scale = 1.0 / divisor[0]
    for k in range(m - n + 1):
        d = scale * remainder[k]
        quotient.append(d)
        for j in range(n + 1):
            remainder[k + j] = remainder[k + j] - d * divisor[j]
    dtype = np.result_type(dtype_of(u), dtype_of(v))
    q = np.stack(quotient) if quotient else zeros_like_value(u, shape=(1,), dtype=dtype)
    r = np.stack(remainder)
    # NumPy drops the leading remainder coefficients that cancelled (to rounding).
    while np.allclose(primal(r[0]), 0, rtol=1e-14) and shape_of(r)[0] > 1:
        r = r[1:]
    return q, r


# ---------------------------------------------------------------------------------------------
# Roots and the polynomial of given roots
# ---------------------------------------------------------------------------------------------


def _companion_eigenvalues(p):
    """The roots of a polynomial with a nonzero leading coefficient: the eigenvalues of its
    companion matrix (-p[1:]/p[0] on the first row, ones below the diagonal), as NumPy finds
    them."""
    if dtype_of(p).kind not in "fc":
        p = p.astype(float)
    n = shape_of(p)[0]
    if n < 2:
        return zeros_like_value(p, shape=(0,))
    first_row = np.reshape(-p[1:] / p[0], (1, n - 1))
    below = eye_like(n - 2, p, columns=n - 1, dtype=dtype_of(p))
    return np.linalg.eigvals(np.concatenate([first_row, below]))


def _nearest(found, wanted):
    """For each of ``wanted``, the index of the nearest of ``found`` not taken yet."""
    free = list(range(len(found)))
    order = []
    for w in wanted:
        best = min(free, key=lambda i: abs(found[i] - w))
        free.remove(best)
        order.append(best)
    return order


@derived_through(np.roots)
def _roots(p):
    p = _coefficients(p)
    if len(shape_of(p)) != 1:
        raise ValueError("Input must be a rank-1 array.")
    values = primal(p)
    nonzero = np.flatnonzero(values)
    if len(nonzero) == 0:
        return np.roots(values)
    first, last = int(nonzero[0]), int(nonzero[-1])
    trailing = shape_of(p)[0] - last - 1
    if trailing == 1:
        # NumPy strips a last coefficient 0 and appends the root 0. That root is simple, and
        # every root moves when the last coefficient does: the derivatives are those of the
        # companion matrix of all coefficients, and a constant shift of rounding size gives
        # NumPy's values (its order, and the exact 0).
        moving = _companion_eigenvalues(p[first:])
        expected = np.roots(values)
        if not is_complex(expected) and is_complex(moving):
            moving = np.real(moving)
        moving = moving[np.array(_nearest(primal(moving), expected), dtype=np.intp)]
        return moving + (expected - primal(moving))
    roots = _companion_eigenvalues(p[first:last + 1])
    if not is_complex(p) and is_complex(roots) and np.all(np.imag(primal(roots)) == 0):
        roots = np.real(roots)   # real roots of real coefficients are real, as np.roots gives
    if trailing:
        # A multiple root 0 has no derivative (it moves as a fractional power of the
        # coefficients): the subgradient 0, as at other singular points.
        roots = np.concatenate([roots, zeros_like_value(roots, shape=(trailing,))])
    return roots


@derived_through(np.poly)
def _poly(seq_of_zeros):
    zeros = np.atleast_1d(as_array(seq_of_zeros))
    shape = shape_of(zeros)
    if len(shape) == 2 and shape[0] == shape[1] and shape[0] != 0:
        zeros = np.linalg.eigvals(zeros)
    elif len(shape) == 1:
        dtype = np.dtype(np.mintypecode(dtype_of(zeros).char))
        zeros = zeros if dtype_of(zeros) == dtype else zeros.astype(dtype)
    else:
        raise ValueError("input must be 1d or non-empty square 2d array.")
    if shape_of(zeros)[0] == 0:
        return 1.0
    a = ones_like_value(zeros, shape=(1,))
    for i in range(shape_of(zeros)[0]):
        # a · (s − zᵢ): the coefficients shifted by one power, minus zᵢ times them.
        zero = zeros_like_value(a, shape=(1,))
        a = np.concatenate([a, zero]) - zeros[i] * np.concatenate([zero, a])
    if is_complex(a):
        # Roots in conjugate pairs give real coefficients: NumPy returns them as such.
        roots = np.asarray(primal(zeros), complex)
        if np.all(np.sort(roots) == np.sort(np.conjugate(roots))):
            a = np.real(a)
    return a


# ---------------------------------------------------------------------------------------------
# polyfit: weighted least squares on the Vandermonde matrix
# ---------------------------------------------------------------------------------------------


@derived_through(np.polyfit)
def _polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    order = int(deg) + 1
    x, y = as_array(x) + 0.0, as_array(y) + 0.0
    _check_polyfit(x, y, deg)
    if rcond is None:
        rcond = shape_of(x)[0] * np.finfo(dtype_of(x)).eps
    lhs, rhs = np.vander(x, order), y
    wide = np.promote_types(dtype_of(x), int)   # NumPy's Vandermonde matrix has this type
    lhs = lhs if dtype_of(lhs) == wide else lhs.astype(wide)
    if w is not None:
        w = as_array(w) + 0.0
        if len(shape_of(w)) != 1 or shape_of(w)[0] != shape_of(y)[0]:
            raise TypeError("expected a 1-d array for weights of the length of y")
        lhs = lhs * w[:, None]
        rhs = rhs * (w[:, None] if len(shape_of(rhs)) == 2 else w)
    # Columns scaled to unit norm for the conditioning, as NumPy does. The solution does not
    # depend on the scale, so it is a constant here.
    scale = np.sqrt(np.sum(np.abs(primal(lhs)) ** 2, axis=0))
    lhs = lhs / scale
    c, residuals, rank, singular_values = np.linalg.lstsq(lhs, rhs, rcond)
    c = c / (scale[:, None] if len(shape_of(c)) == 2 else scale)
    if rank != order and not full:
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning,
                      stacklevel=4)
    if full:
        return c, residuals, rank, singular_values, rcond
    if not cov:
        return c
    covariance = np.linalg.inv(lhs.T @ lhs) / np.outer(scale, scale)
    if cov == "unscaled":
        factor = 1
    else:
        if shape_of(x)[0] <= order:
            raise ValueError("the number of data points must exceed order to scale the "
                             "covariance matrix")
        factor = residuals / (shape_of(x)[0] - order)
    if len(shape_of(y)) == 1:
        return c, covariance * factor
    return c, covariance[:, :, None] * factor


def _check_polyfit(x, y, deg):
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if len(shape_of(x)) != 1:
        raise TypeError("expected 1D vector for x")
    if shape_of(x)[0] == 0:
        raise TypeError("expected non-empty vector for x")
    if not 1 <= len(shape_of(y)) <= 2:
        raise TypeError("expected 1D or 2D array for y")
    if shape_of(x)[0] != shape_of(y)[0]:
        raise TypeError("expected x and y to have same length")
