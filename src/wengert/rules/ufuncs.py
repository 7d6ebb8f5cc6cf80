"""Elementwise functions: each declared once by its partial derivatives.

``elementwise(f, ∂f/∂x, ...)``: every partial is a function of the arguments and the
output ``out``. ``singular=True`` marks derivatives that can be infinite.
"""
import numpy as np

from ._helpers import (ZERO, dtype_of, elementwise, non_differentiable, reverse, safe_divide,
                       unbroadcast)

LN2 = np.log(2.0)
LN10 = np.log(10.0)

# --- arithmetic -----------------------------------------------------------------------------
elementwise(np.add, 1, 1)
elementwise(np.subtract, 1, -1)
elementwise(np.multiply, lambda x, y, out: y, lambda x, y, out: x)
elementwise(np.true_divide, lambda x, y, out: 1 / y, lambda x, y, out: -out / y, singular=True)
elementwise(np.negative, -1)
elementwise(np.positive, 1)
elementwise(np.reciprocal, lambda x, out: -out * out, singular=True)
elementwise(np.square, lambda x, out: 2 * x)
elementwise(np.sqrt, lambda x, out: 0.5 / out, singular=True)
elementwise(np.cbrt, lambda x, out: 1 / (3 * out * out), singular=True)


def _d_power_base(x, p, out):
    return p * np.power(x, p - 1)


def _d_power_exponent(x, p, out):
    # x**p = exp(p log x); at x == 0 the limit along real p > 0 is 0.
    return np.where(x == 0, 0, np.log(np.where(x == 0, 1, x)) * out)


elementwise(np.power, _d_power_base, _d_power_exponent, singular=True)
elementwise(np.float_power, lambda x, p, out: p * np.float_power(x, p - 1), _d_power_exponent,
            singular=True)
elementwise(np.remainder, 1, lambda x, y, out: -np.floor_divide(x, y))
elementwise(np.fmod, 1, lambda x, y, out: -np.trunc(x / y))

# --- exponentials and logarithms --------------------------------------------------------------
elementwise(np.exp, lambda x, out: out)
elementwise(np.exp2, lambda x, out: out * LN2)
elementwise(np.expm1, lambda x, out: out + 1)
elementwise(np.log, lambda x, out: 1 / x, singular=True)
elementwise(np.log2, lambda x, out: 1 / (x * LN2), singular=True)
elementwise(np.log10, lambda x, out: 1 / (x * LN10), singular=True)
elementwise(np.log1p, lambda x, out: 1 / (1 + x), singular=True)
elementwise(np.logaddexp, lambda x, y, out: np.exp(x - out), lambda x, y, out: np.exp(y - out))
elementwise(np.logaddexp2, lambda x, y, out: np.exp2(x - out), lambda x, y, out: np.exp2(y - out))

# --- trigonometric and hyperbolic -------------------------------------------------------------
elementwise(np.sin, lambda x, out: np.cos(x))
elementwise(np.cos, lambda x, out: -np.sin(x))
elementwise(np.tan, lambda x, out: 1 + out * out)
elementwise(np.arcsin, lambda x, out: 1 / np.sqrt(1 - x * x), singular=True)
elementwise(np.arccos, lambda x, out: -1 / np.sqrt(1 - x * x), singular=True)
elementwise(np.arctan, lambda x, out: 1 / (1 + x * x))
elementwise(np.sinh, lambda x, out: np.cosh(x))
elementwise(np.cosh, lambda x, out: np.sinh(x))
elementwise(np.tanh, lambda x, out: 1 - out * out)
elementwise(np.arcsinh, lambda x, out: 1 / np.sqrt(x * x + 1))
elementwise(np.arccosh, lambda x, out: 1 / np.sqrt(x * x - 1), singular=True)
elementwise(np.arctanh, lambda x, out: 1 / (1 - x * x), singular=True)
elementwise(np.arctan2, lambda y, x, out: safe_divide(x, x * x + y * y),
            lambda y, x, out: safe_divide(-y, x * x + y * y))
elementwise(np.hypot, lambda x, y, out: safe_divide(x, out), lambda x, y, out: safe_divide(y, out))
elementwise(np.deg2rad, np.pi / 180)
elementwise(np.rad2deg, 180 / np.pi)


def _d_sinc(x, out):
    at_zero = x == 0
    safe_x = np.where(at_zero, 1, x)
    return np.where(at_zero, 0, (np.cos(np.pi * x) - out) / safe_x)


elementwise(np.sinc, _d_sinc)

# --- piecewise: kinks get the subgradient 0, ties split evenly ----------------------------------


def _tie_weight(mine, other, out):
    """Share of the cotangent for the argument ``mine`` of max/min-like functions: 1 where it
    alone was chosen, 1/2 on a tie, 0 otherwise."""
    chosen = out == mine
    return np.where(chosen & (out == other), 0.5, chosen)


for _select in (np.maximum, np.minimum, np.fmax, np.fmin):
    elementwise(_select, lambda x, y, out: _tie_weight(x, y, out),
                lambda x, y, out: _tie_weight(y, x, out))

elementwise(np.copysign, lambda x, y, out: np.sign(x) * np.sign(out), None)
elementwise(np.fabs, lambda x, out: np.sign(x))


@reverse(np.absolute)
def _absolute(needs, x):
    out = np.absolute(x)

    def absolute_pullback(ct):
        if dtype_of(x).kind == "c":
            return (ct * safe_divide(x, out),)
        return (ct * np.sign(x),)

    return out, absolute_pullback


@reverse(np.conjugate)
def _conjugate(needs, x):
    return np.conjugate(x), lambda ct: (np.conjugate(ct),)


@reverse(np.real)
def _real(needs, x):
    return np.real(x), lambda ct: (ct,)


@reverse(np.imag)
def _imag(needs, x):
    if dtype_of(x).kind != "c":
        return np.imag(x), lambda ct: (ZERO,)
    return np.imag(x), lambda ct: (1j * ct,)


@reverse(np.angle)
def _angle(needs, z, deg=False):
    out = np.angle(z, deg=deg)
    scale = 180 / np.pi if deg else 1

    def angle_pullback(ct):
        if dtype_of(z).kind != "c":
            return (ZERO,)
        return (ct * scale * safe_divide(1j * z, z * np.conjugate(z)),)

    return out, angle_pullback


@reverse(np.clip)
def _clip(needs, x, lo=None, hi=None, **kwargs):
    lo = kwargs.pop("a_min", kwargs.pop("min", lo))
    hi = kwargs.pop("a_max", kwargs.pop("max", hi))
    out = np.clip(x, lo, hi, **kwargs)

    def clip_pullback(ct):
        inside = True if lo is None else x >= lo
        if hi is not None:
            inside = inside & (x <= hi)
        return (
            unbroadcast(x, np.where(inside, ct, 0)),
            ZERO if not needs[1] else unbroadcast(lo, np.where(x < lo, ct, 0)),
            ZERO if len(needs) < 3 or not needs[2] else unbroadcast(hi, np.where(x > hi, ct, 0)),
        )[: len(needs)]

    return out, clip_pullback


# --- no derivative: the output carries no tangent ------------------------------------------------
non_differentiable(
    np.sign, np.floor, np.ceil, np.trunc, np.rint, np.fix, np.round, np.around,
    np.floor_divide, np.heaviside, np.signbit, np.spacing, np.nextafter,
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isnan, np.isinf, np.isfinite, np.isposinf, np.isneginf, np.isreal, np.iscomplex,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.isclose, np.allclose, np.array_equal, np.array_equiv, np.all, np.any,
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.searchsorted, np.shape, np.ndim, np.size, np.result_type,
    np.iscomplexobj, np.isrealobj, np.zeros_like, np.ones_like, np.empty_like,
)
