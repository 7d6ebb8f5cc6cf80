"""Rules for scipy.signal, loaded when the program imports scipy.signal (see _reach).

Convolutions (convolve, fftconvolve, oaconvolve) are bilinear: each tangent goes through the
same convolution, and each cotangent is a convolution too. Every mode is a crop of the full
convolution, centred as SciPy centres it, so the pullback puts ȳ back in its place in the
full output and convolves that with the other input reversed and conjugated, in 'valid' mode:
ā[i] = Σₖ ȳ[k] conj(b[k - i]). Along the axes fftconvolve does not convolve, the inputs
broadcast like a product. correlate is convolve with the second input reversed and
conjugated, and AD goes through that definition.

lfilter solves A y = B x (A, B the lower-triangular Toeplitz matrices of a and b). With
w = A⁻ᴴ ȳ — the same filter run backwards in time with conj(a) — the cotangents are
x̄ = Bᴴ w (an FIR filter backwards), b̄ⱼ = Σₙ w[n] conj(x[n - j]), and āⱼ = -Σₙ w[n] conj(y[n - j]),
as ∂y/∂aⱼ = -A⁻¹ (y delayed by j). Every rule calls the public SciPy functions (doors), so
second and higher derivatives come from the same rules.
"""
import numpy as np
import scipy.signal

from ..errors import DifferentiationError
from ._helpers import (ZERO, as_array, conj, derived_through, forward, is_zero, ones_like_value,
                       real_dtype, reverse, shape_of, to_dense, unbroadcast)
from ._reach import reach
from .fft import arguments, dense_tangent


# ---------------------------------------------------------------------------------------------
# Convolutions
# ---------------------------------------------------------------------------------------------

def _convolved_axes(a, ndim):
    """The axes a call convolves along: ``axes=`` of fftconvolve/oaconvolve, else all."""
    axes = a.get("axes")
    if axes is None:
        return tuple(range(ndim))
    axes = (axes,) if isinstance(axes, (int, np.integer)) else axes
    return tuple(int(axis) % ndim for axis in axes)


def _in_full(ct, a, b, axes):
    """The cotangent of a mode's output placed in the full convolution, zeros elsewhere
    (SciPy centres 'same' and 'valid' in it, the extra element of an odd margin last)."""
    a_shape, b_shape, out = shape_of(a), shape_of(b), shape_of(ct)
    widths = []
    for i, (m, n, kept) in enumerate(zip(a_shape, b_shape, out)):
        full = m + n - 1 if i in axes else max(m, n)
        start = (full - kept) // 2
        widths.append((start, full - start - kept))
    return np.pad(ct, widths) if any(w != (0, 0) for w in widths) else ct


def convolution(name):
    """Register both modes of scipy.signal.``name``(in1, in2, mode, ...), through its door."""
    key = reach(scipy.signal, name)
    public = getattr(scipy.signal, name)

    @reverse(key)
    def convolution_rule(needs, a, b, *rest, **kwargs):
        a, b = as_array(a), as_array(b)
        y = public(a, b, *rest, **kwargs)
        options = arguments(key, a, (b,) + rest, kwargs)
        options.pop("in1"), options.pop("in2"), options.pop("mode")
        axes = _convolved_axes(options, len(shape_of(y)))

        def convolution_pullback(ct):
            full = _in_full(to_dense(ct), a, b, axes)
            ga = gb = ZERO
            if needs[0]:
                ga = unbroadcast(a, public(full, np.flip(conj(b), axes), "valid", **options))
            if needs[1]:
                gb = unbroadcast(b, public(full, np.flip(conj(a), axes), "valid", **options))
            return (ga, gb) + (ZERO,) * len(rest)

        return y, convolution_pullback

    @forward(key)
    def convolution_forward(tangents, a, b, *rest, **kwargs):
        da, db = dense_tangent(tangents[0], a), dense_tangent(tangents[1], b)
        a, b = as_array(a), as_array(b)
        dy = ZERO
        if not is_zero(da):
            dy = public(da, b, *rest, **kwargs)
        if not is_zero(db):
            dy = dy + public(a, db, *rest, **kwargs)
        return public(a, b, *rest, **kwargs), dy


for _name in ("convolve", "fftconvolve", "oaconvolve"):
    convolution(_name)


@derived_through(reach(scipy.signal, "correlate"))
def _correlate(in1, in2, mode="full", method="auto"):
    in2 = as_array(in2)
    return scipy.signal.convolve(in1, np.flip(conj(in2)), mode, method)


# ---------------------------------------------------------------------------------------------
# lfilter: a linear recurrence, differentiated in its input and both sets of coefficients
# ---------------------------------------------------------------------------------------------

_lfilter = reach(scipy.signal, "lfilter")


def _backwards(v, axis):
    return np.flip(v, axis)


def _lags(w, v, count, axis):
    """``Σₙ w[n] conj(v[n - j])`` for the lags j < count, summed over the other axes."""
    w = np.moveaxis(w, axis, -1)
    v = np.moveaxis(conj(v), axis, -1)
    n = shape_of(w)[-1]
    return np.stack([np.sum(w[..., j:] * v[..., :max(n - j, 0)]) for j in range(count)])


def _taps(coefficients):
    """How many coefficients a filter has (SciPy reads a number as one)."""
    shape = shape_of(coefficients)
    return shape[0] if shape else 1


def _refuse_initial_state(zi):
    if zi is not None:
        raise DifferentiationError(
            "scipy.signal.lfilter(..., zi=...) has a derivative rule only without initial "
            "conditions. The output with them is lfilter(b, a, x) + lfilter([a[0]], a, e), "
            "e being zi followed by zeros along the filtered axis: write it that way (the "
            "final state zf is then not returned), or stop the derivative with "
            "wg.stop_gradient.")


@reverse(_lfilter)
def _lfilter_rule(needs, b, a, x, axis=-1, zi=None):
    _refuse_initial_state(zi)
    b, a, x = as_array(b), as_array(a), as_array(x)
    y = scipy.signal.lfilter(b, a, x, axis)

    def lfilter_pullback(ct):
        one = ones_like_value(a, shape=(1,), dtype=real_dtype(a))
        # w = A⁻ᴴ ȳ: the all-pole part run backwards in time, with conjugate coefficients
        reversed_w = scipy.signal.lfilter(one, conj(a), _backwards(to_dense(ct), axis), axis)
        w = _backwards(reversed_w, axis)
        gb = ga = gx = ZERO
        if needs[0]:
            gb = unbroadcast(b, np.reshape(_lags(w, x, _taps(b), axis), shape_of(b)))
        if needs[1]:
            ga = unbroadcast(a, np.reshape(-_lags(w, y, _taps(a), axis), shape_of(a)))
        if needs[2]:   # x̄ = Bᴴ w: the FIR part backwards
            gx = unbroadcast(x, _backwards(scipy.signal.lfilter(conj(b), one, reversed_w, axis),
                                           axis))
        return (gb, ga, gx) + (ZERO,) * (len(needs) - 3)   # axis, if passed by position

    return y, lfilter_pullback


@forward(_lfilter)
def _lfilter_forward(tangents, b, a, x, axis=-1, zi=None):
    _refuse_initial_state(zi)
    db, da, dx = (dense_tangent(t, v) for t, v in zip(tangents, (b, a, x)))
    b, a, x = as_array(b), as_array(a), as_array(x)
    y = scipy.signal.lfilter(b, a, x, axis)
    # A y = B x, so A dy = dB x + B dx - dA y
    dy = ZERO
    if not is_zero(dx):
        dy = scipy.signal.lfilter(b, a, dx, axis)
    if not is_zero(db):
        dy = dy + scipy.signal.lfilter(db, a, x, axis)
    if not is_zero(da):
        dy = dy - scipy.signal.lfilter(da, a, y, axis)
    return y, dy
