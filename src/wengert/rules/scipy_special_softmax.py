"""scipy.special's logsumexp, softmax and log_softmax (reached through doors, loaded with
the other scipy.special rules)."""
import numpy as np
import scipy.special as sp

from ..arraytypes import TracedValue, concrete, dtype_of, of_numpy_kind
from ._helpers import (ZERO, as_array, conj, forward, is_zero, reverse, shape_of, to_dense,
                       unbroadcast)
from ._reach import reach

# --- logsumexp, softmax, log_softmax --------------------------------------------------------------
# One pass of NumPy gives the value and the softmax weights, all the pullback needs (a product,
# no second exp); plain arrays in place: at 10⁶ elements an allocation costs as much as a pass.
logsumexp, softmax, log_softmax = (reach(sp, f) for f in ("logsumexp", "softmax", "log_softmax"))


def _in_place(ufunc, fresh, *more):
    """``ufunc(fresh, *more)``, written into ``fresh`` (this rule's own temporary) if plain."""
    return ufunc(fresh, *more, out=fresh) if type(fresh) is np.ndarray else ufunc(fresh, *more)


def _logsumexp(a, axis, b, keepdims, return_sign):
    """log Σ b·exp(a), its sign, its shape with the axes kept, the weights ∂/∂a = b·exp(a − out)
    and ∂/∂b = exp(a − out) (over the sign). NumPy on ``a``: nesting differentiates it."""
    a0, b0 = a, b
    a = as_array(a)
    real = np.real(concrete(a))
    if b is not None:   # b = 0 still has a derivative, unless a is infinite there
        b = as_array(b)
        a = np.where((b == 0) & np.isinf(real), -np.inf, a)
        real = np.where(concrete(b) == 0, -np.inf, real)
    peak = np.max(real, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)   # a constant: the result does not depend on it
    with np.errstate(divide="ignore", invalid="ignore"):
        e = _in_place(np.exp, a - peak)
        terms = e if b is None else b * e
        total = np.sum(terms, axis=axis, keepdims=True)
        kept = np.log(np.abs(total) if return_sign else total) + peak
        nonzero = np.where(total == 0, 1, total)
        weights = None if b is None else terms / nonzero
        b_weights = _in_place(np.divide, e, nonzero)
    out, sign = (v if keepdims else np.squeeze(v, axis=axis) for v in (kept, np.sign(total)))
    out, sign = (v[()] if shape_of(v) == () else v for v in (out, concrete(sign)))
    if return_sign:   # the sign carries no derivative: SciPy's own, whose edge cases vary
        sign = logsumexp(concrete(a0), axis=axis, b=None if b0 is None else concrete(b0),
                         keepdims=keepdims, return_sign=True)[1]
    return out, sign, shape_of(total), b_weights if b is None else weights, b_weights


@reverse(logsumexp)
def _logsumexp_rule(needs, a, axis=None, b=None, keepdims=False, return_sign=False):
    out, sign, shape, weights, b_weights = _logsumexp(a, axis, b, keepdims, return_sign)

    def logsumexp_pullback(ct):
        ct = ct[0] if return_sign else ct
        grads = [ZERO] * len(needs)
        if not is_zero(ct):
            ct = np.reshape(ct, shape)
            grads[0] = unbroadcast(a, ct * conj(weights)) if needs[0] else ZERO
            if len(needs) > 2 and needs[2]:
                grads[2] = unbroadcast(b, ct * conj(b_weights))
        return tuple(grads)

    return ((out, sign) if return_sign else out), logsumexp_pullback


@forward(logsumexp)
def _logsumexp_forward(tangents, a, axis=None, b=None, keepdims=False, return_sign=False):
    out, sign, shape, weights, b_weights = _logsumexp(a, axis, b, keepdims, return_sign)
    moved = sum(w * t for w, t in zip((weights, None, b_weights), tangents) if not is_zero(t))
    dy = np.broadcast_to(np.sum(moved, axis=axis, keepdims=keepdims), shape_of(out))
    return ((out, sign), (dy, ZERO)) if return_sign else (out, dy)


def _softmax(x, axis, log):
    """softmax(x) or log_softmax(x) as SciPy computes them, and the softmax p (the weights)."""
    if not _computed_here(x):   # maybe traced: through the door
        out = (sp.log_softmax if log else sp.softmax)(x, axis=axis)
        return out, np.exp(out) if log else out
    peak = np.max(x, axis=axis, keepdims=True)
    shifted = x - (np.where(np.isfinite(peak), peak, 0) if log else peak)
    e = np.exp(shifted) if log else _in_place(np.exp, shifted)
    with np.errstate(divide="ignore"):
        total = np.sum(e, axis=axis, keepdims=True)
        out = _in_place(np.subtract, shifted, np.log(total)) if log else None
    p = _in_place(np.divide, e, total)
    return (out if log else p), p


def _computed_here(x):
    """Whether softmax is computed here rather than by SciPy: for plain float arrays, and for
    another library's (Dask's stays lazy: SciPy would convert it); a traced value goes
    through the door, so that its rules nest."""
    return (type(x) is np.ndarray or not of_numpy_kind(x) and not isinstance(x, TracedValue)
            ) and dtype_of(x).kind == "f"


def _softmax_times(v, p, axis):
    """p·(v − Σ p·v), softmax's (symmetric) Jacobian times v; one temporary for plain arrays."""
    if type(v) is not np.ndarray or type(p) is not np.ndarray:
        return p * (v - np.sum(p * v, axis=axis, keepdims=True))
    if axis is None and p.dtype.kind != "c":
        g = v - np.vdot(p, v)
    else:
        g = p * v
        np.subtract(v, np.sum(g, axis=axis, keepdims=True), out=g)
    return np.multiply(g, p, out=g)


def _normalized(fn, log):
    """softmax's rules, or log_softmax's: J·t = t − Σ p·t, Jᴴ·ct = ct − conj(p)·Σ ct."""
    @reverse(fn)
    def normalized_rule(needs, x, axis=None):
        out, p = _softmax(x, axis, log)
        rest = (ZERO,) * (len(needs) - 1)
        if log:
            return out, lambda ct: (ct - conj(p) * np.sum(ct, axis=axis, keepdims=True),) + rest
        return out, lambda ct: (_softmax_times(ct, conj(p), axis),) + rest

    @forward(fn)
    def normalized_forward(tangents, x, axis=None):
        out, p = _softmax(x, axis, log)
        t = to_dense(tangents[0])   # a sparse tangent as an array of its values' library
        return out, (t - np.sum(p * t, axis=axis, keepdims=True) if log
                     else _softmax_times(t, p, axis))


_normalized(softmax, log=False)
_normalized(log_softmax, log=True)
