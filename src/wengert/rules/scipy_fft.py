"""Rules for scipy.fft, loaded when the program imports scipy.fft (see _reach).

The Fourier transforms share np.fft's adjoints (``fft.transform``); overwrite_x= is dropped
(a rule must not destroy the values it differentiates at), workers= only splits the work.

The real trig transforms are real matrices applied along each axis, so the adjoint of one is
its transpose, and their transposes are trig transforms again. Unnormalized, with the first
or last term of a sum weighted ½ where SciPy's definition counts it once:

- DCT-II and DCT-III are each other's transposes up to that weight: C₂ᵀ ȳ = C₃(ȳ with ȳ₀
  doubled), C₃ᵀ ȳ = C₂(ȳ) with its first entry halved; DST-II/III likewise at the last entry;
- DCT-I is symmetric up to its two end weights: C₁ᵀ ȳ = C₁(ȳ with both ends doubled), both
  ends of the result halved; DST-I, DCT-IV and DST-IV are symmetric.

A norm scales the transform and its transpose alike, and orthogonalize=True (the default
with norm="ortho") rescales exactly those end terms: then the transpose of each type is the
transposed type with the same arguments. The inverses are transforms too: idct of type t
with a norm is dct of the transposed type with the dual norm, and so is its adjoint.
"""
import numpy as np
import scipy.fft

from ._helpers import arange_like, asarray_like, is_complex, real_dtype, shape_of, unbroadcast
from ._reach import reach
from .fft import dual, fit, layout, linear_call, transform

_FOURIER = {"fft": "fft", "fft2": "fft", "fftn": "fft", "ifft": "ifft", "ifft2": "ifft",
            "ifftn": "ifft", "rfft": "rfft", "rfft2": "rfft", "rfftn": "rfft",
            "irfft": "irfft", "irfft2": "irfft", "irfftn": "irfft", "hfft": "hfft",
            "hfft2": "hfft", "hfftn": "hfft", "ihfft": "ihfft", "ihfft2": "ihfft",
            "ihfftn": "ihfft"}

for _name, _kind in _FOURIER.items():
    transform(reach(scipy.fft, _name), getattr(scipy.fft, _name), _kind)


# ---------------------------------------------------------------------------------------------
# Real trig transforms: dct, dst, their inverses, n-dimensional versions
# ---------------------------------------------------------------------------------------------

_TRANSPOSED_TYPE = {1: 1, 2: 3, 3: 2, 4: 4}

# Without orthogonalize: the weights (first entry, last entry) on the cotangent before the
# transposed type, and on its result after it.
_END_WEIGHTS = {
    ("dct", 1): ((2, 2), (0.5, 0.5)),
    ("dct", 2): ((2, 1), (1, 1)),
    ("dct", 3): ((1, 1), (0.5, 1)),
    ("dst", 2): ((1, 2), (1, 1)),
    ("dst", 3): ((1, 1), (1, 0.5)),
}


def _ends(g, weights, axis):
    """``g`` with its first and last entries along ``axis`` scaled by ``weights``."""
    if weights == (1, 1):
        return g
    n = shape_of(g)[axis]
    k = arange_like(n, g)
    w = np.where(k == 0, weights[0], 1) * np.where(k == n - 1, weights[1], 1)
    w = np.reshape(w.astype(real_dtype(g)), (n,) + (1,) * (len(shape_of(g)) - 1 - axis))
    return g * w


def _transposed(ct, family, kind, norm, orthogonalize, axis):
    """The transpose of ``family`` (dct or dst) of type ``kind`` along ``axis``, applied to
    the cotangent."""
    before, after = ((1, 1), (1, 1)) if orthogonalize else _END_WEIGHTS.get(
        (family, kind), ((1, 1), (1, 1)))
    g = getattr(scipy.fft, family)(_ends(ct, before, axis), type=_TRANSPOSED_TYPE[kind],
                                   axis=axis, norm=norm, orthogonalize=orthogonalize)
    return _ends(g, after, axis)


_honoured = {}


def _honours_orthogonalize(name):
    """Whether scipy.fft.``name`` applies orthogonalize= to complex input. SciPy 1.17
    transforms the real and imaginary parts with the default (norm == "ortho") instead."""
    if name not in _honoured:
        fn = getattr(scipy.fft, name)
        probe = asarray_like([1.0, 2.0, 4.0])
        _honoured[name] = bool(np.allclose(fn(probe * 1j, orthogonalize=True),
                                           fn(probe, orthogonalize=True) * 1j))
    return _honoured[name]


def trig(name):
    """Register both modes of scipy.fft.``name`` (dct, idct, dst, idst, or their n-D
    versions), through its door."""
    family = name[1:4] if name.startswith("i") else name[:3]
    inverse = name.startswith("i")

    def adjoint_at(x, a):
        s, axes = layout(x, a)
        kind, norm = a["type"], a["norm"]
        orthogonalize = a["orthogonalize"]
        if orthogonalize is None or (is_complex(x) and not _honours_orthogonalize(name)):
            orthogonalize = norm == "ortho"
        if inverse:   # the inverse of type t is the transposed type with the dual norm
            kind, norm = _TRANSPOSED_TYPE[kind], dual(norm)

        def trig_adjoint(ct):
            for axis in axes:
                ct = _transposed(ct, family, kind, norm, orthogonalize, axis)
            return unbroadcast(x, fit(ct, shape_of(x), axes))

        return trig_adjoint

    linear_call(reach(scipy.fft, name), getattr(scipy.fft, name), adjoint_at)


for _name in ("dct", "idct", "dst", "idst", "dctn", "idctn", "dstn", "idstn"):
    trig(_name)
