"""The rest of NumPy's ufuncs: degree conversions, a number split in two parts (frexp, modf,
divmod) and ldexp, the matrix-vector products matvec and vecmat, and the integer ufuncs.

A split gives two outputs of which one is piecewise constant (frexp's exponent, modf's
integral part, divmod's quotient): it carries no tangent, and the other part moves with the
argument as the scaling or shift in between allows (the mantissa m = x·2⁻ᵉ moves by 2⁻ᵉ,
the fractional part by 1, the remainder x − q·y by 1 in x and −q in y).
"""
import numpy as np

from ..errors import DifferentiationError
from ._helpers import (ZERO, conj, derived_through, forward, is_zero, linear,
                       non_differentiable, reverse, shape_of, to_dense, unbroadcast)

# --- linear maps: degrees and radians (constant factors, as deg2rad and rad2deg), and
# ldexp(x, e) = x·2ᵉ, whose integer exponent has no tangent. Forward mode applies the
# function itself to the tangent; the transpose scales the cotangent the same way.
linear(np.degrees, lambda ct, x: ct * (180 / np.pi))
linear(np.radians, lambda ct, x: ct * (np.pi / 180))
linear(np.ldexp, lambda ct, x, e: unbroadcast(x, np.ldexp(ct, e)))


def _dense(t):
    return t if is_zero(t) else to_dense(t)


@reverse(np.frexp)
def _frexp(needs, x):
    mantissa, exponent = np.frexp(x)

    def frexp_pullback(cts):
        ct = cts[0]
        return (ZERO if is_zero(ct) else np.ldexp(ct, -exponent),)

    return (mantissa, exponent), frexp_pullback


@forward(np.frexp)
def _frexp_forward(tangents, x):
    mantissa, exponent = np.frexp(x)
    t = _dense(tangents[0])
    return (mantissa, exponent), (ZERO if is_zero(t) else np.ldexp(t, -exponent), ZERO)


@reverse(np.modf)
def _modf(needs, x):
    return np.modf(x), lambda cts: (cts[0],)


@forward(np.modf)
def _modf_forward(tangents, x):
    return np.modf(x), (_dense(tangents[0]), ZERO)


@reverse(np.divmod)
def _divmod(needs, x, y):
    quotient, remainder = np.divmod(x, y)

    def divmod_pullback(cts):
        ct = cts[1]
        if is_zero(ct):
            return ZERO, ZERO
        return (unbroadcast(x, ct) if needs[0] else ZERO,
                unbroadcast(y, -ct * quotient) if needs[1] else ZERO)

    return (quotient, remainder), divmod_pullback


@forward(np.divmod)
def _divmod_forward(tangents, x, y):
    quotient, remainder = np.divmod(x, y)
    tx, ty = (_dense(t) for t in tangents)
    moved = ZERO
    if not is_zero(tx):
        moved = np.broadcast_to(tx, shape_of(remainder))
    if not is_zero(ty):
        moved = -ty * quotient if is_zero(moved) else moved - ty * quotient
    return (quotient, remainder), (ZERO, moved)


# --- matvec and vecmat (NumPy 2.2): matmul with the vector as a column or a row ---------------

def _no_keywords(name, kwargs):
    if kwargs:
        raise DifferentiationError(
            f"np.{name} with keyword arguments ({', '.join(kwargs)}) has no traced definition "
            "in wengert. Move the axes into place with np.moveaxis and call it without them, "
            "or use np.matmul.")


if hasattr(np, "matvec"):
    @derived_through(np.matvec)
    def _matvec(a, v, **kwargs):
        _no_keywords("matvec", kwargs)
        return np.matmul(a, v[..., None])[..., 0]

    @derived_through(np.vecmat)
    def _vecmat(v, a, **kwargs):
        # vecmat conjugates the vector, as vecdot does.
        _no_keywords("vecmat", kwargs)
        return np.matmul(conj(v)[..., None, :], a)[..., 0, :]


# --- integers and bits: no tangent ------------------------------------------------------------
non_differentiable(*{getattr(np, name) for name in (
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_invert", "invert",
    "bitwise_count", "left_shift", "right_shift", "bitwise_left_shift", "bitwise_right_shift",
    "gcd", "lcm", "isnat") if hasattr(np, name)})
