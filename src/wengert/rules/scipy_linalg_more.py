"""Rules for scipy.linalg's matrix functions, decompositions and special matrices (imported by
scipy_linalg): expm, sqrtm, solve_sylvester, eigh, eigvalsh, svd, qr, block_diag, toeplitz.

The matrix functions differentiate through calls of themselves, so every order works:

- expm: its derivative along E (the Fréchet derivative) is the upper right block of
  expm([[A, E], [0, A]]), and its adjoint the same block with Aᴴ and the cotangent.
- sqrtm: X X = A gives X dX + dX X = dA, a Sylvester equation, solved by solve_sylvester,
  whose own rule (A X + X B = Q, a Sylvester equation again) is here too.

eigh, eigvalsh, svd and qr reuse np.linalg's derivatives (rules/eigh.py, decompositions.py)
on SciPy's factors. eigh reads one triangle (``lower``), so its derivative is that of the
triangle read (see rules/eigh.py). block_diag and toeplitz are linear: AD goes through NumPy
definitions of them (concatenation, indexing), which gives every order.
"""
import numpy as np
import scipy
import scipy.linalg

from ..errors import DifferentiationError
from ._helpers import (ZERO, as_array, conj, derived_through, dtype_of, forward,
                       is_zero, reverse, shape_of, to_dense, zeros_like_value)
from ._matrices import adjoint, dense_tangents, fit, per_argument, singular_value_tangents
from ._reach import reach
from .decompositions import (_qr_cotangent, _qr_tangents, _svd_cotangent, _thin_cotangents,
                             svd_factor_tangents)
from .eigh import (eigenvalue_cotangent, eigenvalue_tangents, eigh_cotangent, eigh_tangents,
                   triangle_seen, triangle_seen_adjoint)

_expm = reach(scipy.linalg, "expm")
_sqrtm = reach(scipy.linalg, "sqrtm")
_solve_sylvester = reach(scipy.linalg, "solve_sylvester")
_eigh = reach(scipy.linalg, "eigh")
_eigvalsh = reach(scipy.linalg, "eigvalsh")
_svd = reach(scipy.linalg, "svd")
_qr = reach(scipy.linalg, "qr")
_block_diag = reach(scipy.linalg, "block_diag")
_toeplitz = reach(scipy.linalg, "toeplitz")


# --- expm ------------------------------------------------------------------------------------

def _expm_derivative(a, e):
    """L(A, E), the derivative of expm at A along E: the upper right block of the exponential
    of [[A, E], [0, A]] (Mathias, 1996). With Aᴴ and a cotangent, it is also the adjoint."""
    if type(a) is np.ndarray and type(e) is np.ndarray and a.ndim == e.ndim == 2:
        # Concrete matrices (nothing outside differentiates this): SciPy's own algorithm
        # takes a third of the time of the exponential of the block matrix.
        derivative = scipy.linalg.expm_frechet(a, e, compute_expm=False)
        return derivative.astype(np.result_type(a, e), copy=False)
    n = shape_of(a)[-1]
    zero = zeros_like_value(a, dtype=np.result_type(dtype_of(a), dtype_of(e)))
    block = np.concatenate([np.concatenate([a, e], axis=-1),
                            np.concatenate([zero, a], axis=-1)], axis=-2)
    return scipy.linalg.expm(block)[..., :n, n:]


@reverse(_expm)
def _expm_rule(needs, a):
    def expm_pullback(ct):
        return (fit(a, _expm_derivative(adjoint(a), ct)),)

    return scipy.linalg.expm(a), expm_pullback


@forward(_expm)
def _expm_forward(tangents, a):
    return scipy.linalg.expm(a), _expm_derivative(a, to_dense(tangents[0]))


# --- sqrtm, solve_sylvester --------------------------------------------------------------------

@reverse(_sqrtm)
def _sqrtm_rule(needs, a, *args, **kwargs):
    out = scipy.linalg.sqrtm(a, *args, **kwargs)
    with_error = isinstance(out, tuple)   # disp=False: (X, error estimate)

    def sqrtm_pullback(ct):
        # X dX + dX X = dA: Ā solves Xᴴ Ā + Ā Xᴴ = X̄.
        root, root_ct = (out[0], ct[0]) if with_error else (out, ct)
        if is_zero(root_ct):
            return per_argument(needs)
        root_h = adjoint(root)
        return per_argument(needs, fit(a, scipy.linalg.solve_sylvester(root_h, root_h, root_ct)))

    return out, sqrtm_pullback


@forward(_sqrtm)
def _sqrtm_forward(tangents, a, *args, **kwargs):
    out = scipy.linalg.sqrtm(a, *args, **kwargs)
    root = out[0] if isinstance(out, tuple) else out
    d_root = scipy.linalg.solve_sylvester(root, root, to_dense(tangents[0]))
    return out, (d_root, ZERO) if isinstance(out, tuple) else d_root


@reverse(_solve_sylvester)
def _solve_sylvester_rule(needs, a, b, q):
    x = scipy.linalg.solve_sylvester(a, b, q)

    def solve_sylvester_pullback(ct):
        # A X + X B = Q: Q̄ solves Aᴴ Q̄ + Q̄ Bᴴ = X̄, and Ā = -Q̄ Xᴴ, B̄ = -Xᴴ Q̄.
        q_ct = scipy.linalg.solve_sylvester(adjoint(a), adjoint(b), ct)
        a_ct = fit(a, -(q_ct @ adjoint(x))) if needs[0] else ZERO
        b_ct = fit(b, -(adjoint(x) @ q_ct)) if needs[1] else ZERO
        return per_argument(needs, a_ct, b_ct, fit(q, q_ct))

    return x, solve_sylvester_pullback


@forward(_solve_sylvester)
def _solve_sylvester_forward(tangents, a, b, q):
    x = scipy.linalg.solve_sylvester(a, b, q)
    da, db, dq = dense_tangents(tangents, 3)
    rhs = dq   # A dX + dX B = dQ - dA X - X dB
    if not is_zero(da):
        rhs = rhs - da @ x
    if not is_zero(db):
        rhs = rhs - x @ db
    return x, scipy.linalg.solve_sylvester(a, b, rhs)


# --- eigh, eigvalsh ----------------------------------------------------------------------------

def _eigenpairs(name, a, b, lower, check_finite, driver, subsets):
    """(w, V) of the standard problem; a DifferentiationError for the options without a
    derivative rule (the generalized problem, subsets)."""
    unsupported = ["b"] if b is not None else []
    unsupported += [option for option, value in subsets.items() if value is not None]
    if unsupported:
        raise DifferentiationError(
            f"scipy.linalg.{name} with {', '.join(f'{k}=' for k in unsupported)} has no "
            "derivative rule: wengert differentiates the standard Hermitian eigenproblem "
            "(b=None) for all eigenvalues. Select eigenpairs after the call (w[k], v[:, k]), "
            "or wrap the call in a wg.primitive with a rule of your own.")
    return scipy.linalg.eigh(a, lower=lower, check_finite=check_finite, driver=driver)


@reverse(_eigh)
def _eigh_rule(needs, a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False,
               overwrite_b=False, type=1, check_finite=True, subset_by_index=None,
               subset_by_value=None, driver=None):
    # The eigenvectors are needed for the derivative even with eigvals_only: the eigenvalues
    # returned are those of the decomposition with vectors (equal to rounding).
    w, v = _eigenpairs("eigh", a, b, lower, check_finite, driver,
                       dict(subset_by_index=subset_by_index, subset_by_value=subset_by_value))

    def eigh_pullback(cts):
        grad = eigenvalue_cotangent(v, cts) if eigvals_only else eigh_cotangent(w, v, *cts)
        if is_zero(grad):
            return per_argument(needs)
        return per_argument(needs, fit(a, triangle_seen_adjoint(grad, lower)))

    return (w if eigvals_only else (w, v)), eigh_pullback


@forward(_eigh)
def _eigh_forward(tangents, a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False,
                  overwrite_b=False, type=1, check_finite=True, subset_by_index=None,
                  subset_by_value=None, driver=None):
    w, v = _eigenpairs("eigh", a, b, lower, check_finite, driver,
                       dict(subset_by_index=subset_by_index, subset_by_value=subset_by_value))
    s = triangle_seen(to_dense(tangents[0]), lower)
    if eigvals_only:
        return w, eigenvalue_tangents(v, s)
    return (w, v), eigh_tangents(w, v, s)


@reverse(_eigvalsh)
def _eigvalsh_rule(needs, a, b=None, **options):
    return _eigh_rule(needs, a, b, eigvals_only=True, **options)


@forward(_eigvalsh)
def _eigvalsh_forward(tangents, a, b=None, **options):
    return _eigh_forward(tangents, a, b, eigvals_only=True, **options)


# --- svd ---------------------------------------------------------------------------------------

@reverse(_svd)
def _svd_rule(needs, a, full_matrices=True, compute_uv=True, overwrite_a=False,
              check_finite=True, lapack_driver="gesdd"):
    options = dict(check_finite=check_finite, lapack_driver=lapack_driver)
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    if not compute_uv:
        def singular_values_pullback(ct):
            u, s, vh = scipy.linalg.svd(a, full_matrices=False, **options)
            return per_argument(needs, fit(a, _svd_cotangent(u, s, vh, ZERO, ct, ZERO, False)))

        return scipy.linalg.svd(a, compute_uv=False, **options), singular_values_pullback
    out = scipy.linalg.svd(a, full_matrices=full_matrices, **options)

    def svd_pullback(cts):
        (u, s, vh), (u_ct, s_ct, vh_ct) = out, cts
        if full_matrices and m != n:   # the extra columns: cotangents of the thin factors
            u_ct, vh_ct = _thin_cotangents(u, vh, u_ct, vh_ct, k)
            u, vh = u[..., :, :k], vh[..., :k, :]
        return per_argument(needs, fit(a, _svd_cotangent(u, s, vh, u_ct, s_ct, vh_ct, False)))

    return out, svd_pullback


@forward(_svd)
def _svd_forward(tangents, a, full_matrices=True, compute_uv=True, overwrite_a=False,
                 check_finite=True, lapack_driver="gesdd"):
    options = dict(check_finite=check_finite, lapack_driver=lapack_driver)
    da = to_dense(tangents[0])
    if not compute_uv:
        u, _, vh = scipy.linalg.svd(a, full_matrices=False, **options)
        return (scipy.linalg.svd(a, compute_uv=False, **options),
                singular_value_tangents(u, vh, da))
    out = scipy.linalg.svd(a, full_matrices=full_matrices, **options)
    return out, svd_factor_tangents(out, da, full_matrices)


# --- qr ----------------------------------------------------------------------------------------
# np.linalg.qr's derivatives (m >= n, R with a real diagonal) on SciPy's factors. With
# pivoting, A[:, P] = Q R: the factors are those of the permuted columns, for a fixed P.

def _qr_supported(a, mode):
    m, n = shape_of(a)[-2:]
    if mode in ("economic", "r") and m >= n or mode == "full" and m == n:
        return
    raise DifferentiationError(
        f"scipy.linalg.qr(a, mode={mode!r}) of a {m}x{n} matrix has no derivative rule: "
        "wengert differentiates mode='economic' and mode='r' for m >= n, and mode='full' for "
        "square matrices.")


def _economic_factors(a, mode, pivoting, options):
    """(Q, R, P or None): the economic factors behind what ``mode`` returns."""
    factors = scipy.linalg.qr(a, mode="economic", pivoting=pivoting, **options)
    return factors if pivoting else (*factors, None)


def _columns_of(m, order):
    return m if order is None else np.take_along_axis(m, order[..., None, :], axis=-1)


def _r_only(out):
    """mode='r' returns (R,) or (R, P) for one matrix, and R alone for a stack (SciPy 1.17)."""
    return not isinstance(out, (tuple, list))


@reverse(_qr)
def _qr_rule(needs, a, overwrite_a=False, lwork=None, mode="full", pivoting=False,
             check_finite=True):
    _qr_supported(a, mode)
    # lwork only when given: SciPy 1.18 deprecates it (and warns even for lwork=None).
    options = dict(check_finite=check_finite, **({} if lwork is None else {"lwork": lwork}))
    out = scipy.linalg.qr(a, mode=mode, pivoting=pivoting, **options)

    def qr_pullback(cts):
        if mode == "r":   # R has m rows, the last m - n of them zero
            q, r, order = _economic_factors(a, mode, pivoting, options)
            r_ct = cts if _r_only(out) else cts[0]
            q_ct, r_ct = ZERO, r_ct if is_zero(r_ct) else r_ct[..., :shape_of(r)[-2], :]
        else:
            (q, r), (q_ct, r_ct) = out[:2], cts[:2]
            order = out[2] if pivoting else None
        if is_zero(q_ct) and is_zero(r_ct):
            return per_argument(needs)
        grad = _qr_cotangent(q, r, q_ct, r_ct)
        if order is not None:
            grad = _columns_of(grad, np.argsort(order, axis=-1))
        return per_argument(needs, fit(a, grad))

    return out, qr_pullback


@forward(_qr)
def _qr_forward(tangents, a, overwrite_a=False, lwork=None, mode="full", pivoting=False,
                check_finite=True):
    _qr_supported(a, mode)
    # lwork only when given: SciPy 1.18 deprecates it (and warns even for lwork=None).
    options = dict(check_finite=check_finite, **({} if lwork is None else {"lwork": lwork}))
    out = scipy.linalg.qr(a, mode=mode, pivoting=pivoting, **options)
    q, r, order = (_economic_factors(a, mode, pivoting, options) if mode == "r"
                   else (*out[:2], out[2] if pivoting else None))
    dq, dr = _qr_tangents(q, r, _columns_of(to_dense(tangents[0]), order))
    if mode != "r":
        return out, (dq, dr, ZERO) if pivoting else (dq, dr)
    m, n = shape_of(a)[-2:]
    dr = np.concatenate([dr, zeros_like_value(dr, shape=shape_of(dr)[:-2] + (m - n, n))],
                        axis=-2)
    return out, dr if _r_only(out) else (dr, ZERO) if pivoting else (dr,)


# --- block_diag, toeplitz: linear, differentiated through NumPy definitions ---------------------

@derived_through(_block_diag)
def _block_diag_definition(*arrs):
    if not arrs:
        return scipy.linalg.block_diag()
    blocks = [as_array(a) for a in arrs]
    if any(len(shape_of(b)) > 2 for b in blocks):
        raise ValueError("arguments in the following positions have dimension greater than 2: "
                         f"{[k for k, b in enumerate(blocks) if len(shape_of(b)) > 2]}")
    # 0-d and 1-d inputs are one row, as np.atleast_2d makes them
    blocks = [np.reshape(b, (1, -1)) if len(shape_of(b)) < 2 else b for b in blocks]
    dtype = np.result_type(*[dtype_of(b) for b in blocks])
    widths = [shape_of(b)[1] for b in blocks]
    total, start, rows = sum(widths), 0, []
    for b, width in zip(blocks, widths):
        height = shape_of(b)[0]
        left = zeros_like_value(b, shape=(height, start), dtype=dtype)
        right = zeros_like_value(b, shape=(height, total - start - width), dtype=dtype)
        rows.append(np.concatenate([left, b, right], axis=1))
        start += width
    return np.concatenate(rows, axis=0)


# SciPy 1.17 reads leading axes of c and r as a batch; earlier versions ravel them.
_TOEPLITZ_BATCHES = np.lib.NumpyVersion(scipy.__version__) >= "1.17.0"


@derived_through(_toeplitz)
def _toeplitz_definition(c, r=None):
    c = as_array(c)
    r = conj(c) if r is None else as_array(r)
    if not _TOEPLITZ_BATCHES or len(shape_of(c)) == 0:
        c = np.reshape(c, (-1,))
    if not _TOEPLITZ_BATCHES or len(shape_of(r)) == 0:
        r = np.reshape(r, (-1,))
    batch = np.broadcast_shapes(shape_of(c)[:-1], shape_of(r)[:-1])
    m, n = shape_of(c)[-1], shape_of(r)[-1]
    c = np.broadcast_to(c, batch + (m,))
    r = np.broadcast_to(r, batch + (n,))
    # T[i, j] = c[i - j] below the diagonal, r[j - i] above: one array of every value the
    # matrix holds, c reversed then r without its first entry, read along each row.
    values = np.concatenate([c[..., ::-1], r[..., 1:]], axis=-1)
    # The positions are NumPy's whatever the array (an index only), read as one flat list:
    # Dask indexes with one-dimensional integer arrays only.
    index = (m - 1) - np.arange(m)[:, None] + np.arange(n)[None, :]
    return np.reshape(values[..., np.ravel(index)], batch + (m, n))
