"""Rules for np.fft: the discrete Fourier transforms, whose adjoints are Fourier transforms.

Every transform is linear over the reals, so forward mode applies the transform itself to the
tangent, and reverse mode applies its adjoint. Under wengert's complex convention (the
cotangent of z is ∂L/∂Re z + i·∂L/∂Im z) the adjoint of y = A x is Aᴴ ȳ, and its real part
for a real x. The adjoints are transforms again, with the dual norm: (c·F)ᴴ = c·conj(F), and
"backward" (no scale one way, 1/N the other) swaps with "forward", "ortho" stays.

- complex → complex (fft, fftn): Fᴴ is the inverse transform, ifft ↔ fft.
- real → half spectrum (rfft): Re(Fᴴ ȳ) over the half spectrum is irfft of ȳ with the bins that
  stand for two (all but DC and, for even n, Nyquist) halved — irfft counts them twice.
- half spectrum → real (irfft): rfft of ȳ with those bins doubled; irfft reads only the real
  part of the DC and Nyquist bins, and rfft gives them real cotangents.
- hfft / ihfft are irfft / rfft of the conjugate with the other norm.
- n= / s= crop or zero-pad the input first: the adjoint pads or crops the cotangent back.

The rules call np.fft on values that may be tracers of outer levels, so they nest to any
order. The same adjoints serve scipy.fft (see ``scipy_fft``).
"""
import inspect

import numpy as np

from ._helpers import ZERO, arange_like, as_array, conj, forward, is_zero, linear, real_dtype, reverse, \
    shape_of, to_dense, unbroadcast, zeros_like_value

# The norm of the adjoint (and, for hfft/ihfft, of the transform they are made of).
_DUAL = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}

# Keywords that change how a transform is computed, not what: never passed on to tangents.
_IN_PLACE = ("overwrite_x",)


def dual(norm):
    return _DUAL[norm]


# ---------------------------------------------------------------------------------------------
# Reading a call: the lengths s the transform works at, along which axes, with which norm
# ---------------------------------------------------------------------------------------------

_signatures = {}


def arguments(fn, x, rest, kwargs):
    """The call's arguments by parameter name, defaults filled in."""
    signature = _signatures.get(fn)
    if signature is None:
        signature = _signatures[fn] = inspect.signature(fn)
    bound = signature.bind(x, *rest, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def layout(x, a, half_input=False):
    """``(s, axes)`` of a call with arguments ``a``: the transform lengths and their axes,
    both explicit. ``half_input``: a half spectrum goes in (irfft, hfft), whose default
    length along the last axis is 2(m - 1)."""
    shape = shape_of(x)
    ndim = len(shape)
    if "axis" in a:   # a one-axis transform
        axes, s = (a["axis"],), None if a["n"] is None else (a["n"],)
    else:
        axes, s = a["axes"], a["s"]
        axes = (axes,) if isinstance(axes, (int, np.integer)) else axes   # SciPy allows one
        s = (s,) if isinstance(s, (int, np.integer)) else s
        if axes is None:
            axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    axes = tuple(int(axis) % ndim for axis in axes)
    s = [None] * len(axes) if s is None else list(s)
    for i, axis in enumerate(axes):
        if s[i] is None or s[i] == -1:   # the input's own length
            s[i] = 2 * (shape[axis] - 1) if half_input and i == len(axes) - 1 else shape[axis]
    return tuple(int(n) for n in s), axes


def fit(g, shape, axes):
    """``g`` cropped or zero-padded along ``axes`` to ``shape``: the adjoint of the cropping
    or padding a transform does to its input."""
    g_shape = shape_of(g)
    crop = [slice(None)] * len(g_shape)
    pad = [(0, 0)] * len(g_shape)
    for axis in axes:
        if g_shape[axis] > shape[axis]:
            crop[axis] = slice(0, shape[axis])
        elif g_shape[axis] < shape[axis]:
            pad[axis] = (0, shape[axis] - g_shape[axis])
    if any(c != slice(None) for c in crop):
        g = g[tuple(crop)]
    if any(p != (0, 0) for p in pad):
        g = np.pad(g, pad)
    return g


def _paired_bins(n, like, axis, ndim, paired, single):
    """Weights along ``axis`` of a half spectrum of length n // 2 + 1: ``single`` on the bins
    that stand for themselves (DC; Nyquist for even n), ``paired`` on those that also stand
    for their mirror image."""
    bins = n // 2 + 1
    k = arange_like(bins, like)
    alone = (k == 0) | ((k == bins - 1) & (n % 2 == 0))
    weights = np.where(alone, single, paired).astype(real_dtype(like))
    return np.reshape(weights, (bins,) + (1,) * (ndim - 1 - axis))


# ---------------------------------------------------------------------------------------------
# The adjoints: ``adjoint(ct, x, s, axes, norm)`` is the cotangent of the input x
# ---------------------------------------------------------------------------------------------

def _adjoint_of_fft(ct, x, s, axes, norm):
    return unbroadcast(x, fit(np.fft.ifftn(ct, axes=axes, norm=dual(norm)), shape_of(x), axes))


def _adjoint_of_ifft(ct, x, s, axes, norm):
    return unbroadcast(x, fit(np.fft.fftn(ct, axes=axes, norm=dual(norm)), shape_of(x), axes))


def _adjoint_of_rfft(ct, x, s, axes, norm):
    half = _paired_bins(s[-1], ct, axes[-1], len(shape_of(ct)), 0.5, 1)
    g = np.fft.irfftn(ct * half, s=s, axes=axes, norm=dual(norm))
    return unbroadcast(x, fit(g, shape_of(x), axes))


def _adjoint_of_irfft(ct, x, s, axes, norm):
    double = _paired_bins(s[-1], ct, axes[-1], len(shape_of(ct)), 2, 1)
    g = np.fft.rfftn(ct, axes=axes, norm=dual(norm)) * double
    return unbroadcast(x, fit(g, shape_of(x), axes))


def _adjoint_of_hfft(ct, x, s, axes, norm):   # hfft(x) = irfft(conj(x)), the other norm
    return conj(_adjoint_of_irfft(ct, x, s, axes, dual(norm)))


def _adjoint_of_ihfft(ct, x, s, axes, norm):   # ihfft(x) = conj(rfft(x)), the other norm
    return _adjoint_of_rfft(conj(ct), x, s, axes, dual(norm))


ADJOINTS = {   # kind of transform: (its adjoint, whether a half spectrum goes in)
    "fft": (_adjoint_of_fft, False), "ifft": (_adjoint_of_ifft, False),
    "rfft": (_adjoint_of_rfft, False), "irfft": (_adjoint_of_irfft, True),
    "hfft": (_adjoint_of_hfft, True), "ihfft": (_adjoint_of_ihfft, False),
}


def linear_call(key, public, adjoint_at):
    """Register both modes of a function linear in its first argument (over the reals).
    ``key`` is the function rules are found by, ``public`` the one the rules call (it must
    accept traced values: for SciPy, its door). ``adjoint_at(x, a)``, given the input and the
    call's arguments by name, returns the function mapping an output cotangent to x's."""
    @reverse(key)
    def linear_transform(needs, x, *rest, **kwargs):
        x = as_array(x)   # a list holding traced values
        kwargs = _without(kwargs, _IN_PLACE)
        y = public(x, *rest, **kwargs)
        adjoint = adjoint_at(x, arguments(key, x, rest, kwargs))

        def linear_transform_pullback(ct):
            return (adjoint(to_dense(ct)),) + (ZERO,) * len(rest)

        return y, linear_transform_pullback

    @forward(key)
    def linear_transform_forward(tangents, x, *rest, **kwargs):
        kwargs = _without(kwargs, _IN_PLACE)
        t = dense_tangent(tangents[0], x)
        y = public(x, *rest, **kwargs)
        return y, ZERO if is_zero(t) else public(t, *rest, **kwargs)


def transform(key, public, kind):
    """Register a Fourier transform of ``kind`` (a key of ``ADJOINTS``) with ``linear_call``."""
    adjoint, half_input = ADJOINTS[kind]

    def adjoint_at(x, a):
        s, axes = layout(x, a, half_input)
        return lambda ct: adjoint(ct, x, s, axes, a["norm"])

    linear_call(key, public, adjoint_at)


def dense_tangent(t, x):
    """The tangent of argument ``x`` as an array (or ZERO). A list or tuple argument holding
    traced values has a list of tangents, ZERO for the elements without one: stacked."""
    if type(t) not in (list, tuple):
        return to_dense(t)
    if all(is_zero(e) for e in t):
        return ZERO
    return np.stack([zeros_like_value(v) if is_zero(e) else to_dense(e) for e, v in zip(t, x)])


def _without(kwargs, names):
    return {k: v for k, v in kwargs.items() if k not in names} if kwargs else kwargs


_KINDS = {"fft": "fft", "fft2": "fft", "fftn": "fft", "ifft": "ifft", "ifft2": "ifft",
          "ifftn": "ifft", "rfft": "rfft", "rfft2": "rfft", "rfftn": "rfft", "irfft": "irfft",
          "irfft2": "irfft", "irfftn": "irfft", "hfft": "hfft", "ihfft": "ihfft"}

for _name, _kind in _KINDS.items():
    transform(getattr(np.fft, _name), getattr(np.fft, _name), _kind)


# ---------------------------------------------------------------------------------------------
# Shifts: permutations, each the other's transpose. fftfreq / rfftfreq need no rule: they are
# arithmetic on the spacing d, which AD follows (an int n carries no derivative).
# ---------------------------------------------------------------------------------------------

linear(np.fft.fftshift, lambda ct, x, axes=None: np.fft.ifftshift(ct, axes))
linear(np.fft.ifftshift, lambda ct, x, axes=None: np.fft.fftshift(ct, axes))
