"""Elementwise functions: each declared once by its partial derivatives.

``elementwise(f, ∂f/∂x, ...)``: every partial is a function of the arguments and the output
``out``, or a constant number. For a real-valued function of a complex argument (abs, angle)
the "partial" is the gradient direction ∂f/∂Re z + i ∂f/∂Im z, used as it is.

``singular=True`` (``pole``) marks partials that are infinite at finite points (1/x at 0,
sqrt at 0, arcsin at ±1): there a zero cotangent must give 0, not 0·inf = NaN. Zeros that come
from selection (np.where, indexing, max/min) are marked on the cotangent itself (see
``arraytypes.ArrayType.selected``) and masked for every partial, so smooth functions pay nothing for the
policy unless a selection feeds them.
"""
import math

import numpy as np

from ..registry import forward_rules
from ._helpers import (ZERO, Indexed, cleared_at_poles, dtype_of, elementwise, forward, is_complex, is_zero,
                       non_differentiable, push_partial, reverse, safe_divide, unbroadcast)

# Python floats, not NumPy scalars: a float64 scalar would promote float32 cotangents.
LN2 = float(np.log(2.0))
LN10 = float(np.log(10.0))




def pole(fn, *partials):
    """``elementwise`` for a derivative with poles (see the module docstring)."""
    elementwise(fn, *partials, singular=True)


def inverse(a):
    """``1 / a`` that never raises: ``a`` may be a Python float 0.0 (or an int constant)."""
    return np.divide(1.0, a)


# --- arithmetic -----------------------------------------------------------------------------
elementwise(np.add, 1, 1)
elementwise(np.subtract, 1, -1)
elementwise(np.multiply, lambda x, y, out: y, lambda x, y, out: x)
pole(np.true_divide, lambda x, y, out: inverse(y), lambda x, y, out: np.divide(-out, y))
elementwise(np.negative, -1)
elementwise(np.positive, 1)
pole(np.reciprocal, lambda x, out: -out * out)
elementwise(np.square, lambda x, out: 2 * x)
pole(np.sqrt, lambda x, out: 0.5 / out)
pole(np.cbrt, lambda x, out: inverse(3 * out * out))


def _d_base(power):
    """∂/∂x of ``power(x, p)``: p·x^(p−1), and 0 where p == 0 (even at x == 0, where the
    formula would give 0·inf). A traced p that is 0 keeps its own derivative x^(p−1)."""
    def d_base(x, p, out):
        if type(p) is int or type(p) is float:   # a constant exponent: x**2, x**0.5
            if p == 0:
                return 0
            return 2 * x if p == 2 else p * power(x, p - 1)
        return p * cleared_at_poles(p, power(x, p - 1))
    return d_base


def _d_exponent(x, p, out):
    # x**p = exp(p log x); at x == 0 the limit along real p > 0 is 0.
    return np.where(x == 0, 0, np.log(np.where(x == 0, 1, x)) * out)


pole(np.power, _d_base(np.power), _d_exponent)
pole(np.float_power, _d_base(np.float_power), _d_exponent)
elementwise(np.remainder, 1, lambda x, y, out: -np.floor_divide(x, y))
elementwise(np.fmod, 1, lambda x, y, out: -np.trunc(np.divide(x, y)))

# --- exponentials and logarithms --------------------------------------------------------------
elementwise(np.exp, lambda x, out: out)
elementwise(np.exp2, lambda x, out: out * LN2)
elementwise(np.expm1, lambda x, out: out + 1)
pole(np.log, lambda x, out: inverse(x))
pole(np.log2, lambda x, out: np.divide(1 / LN2, x))
pole(np.log10, lambda x, out: np.divide(1 / LN10, x))
pole(np.log1p, lambda x, out: inverse(1 + x))
elementwise(np.logaddexp, lambda x, y, out: np.exp(x - out), lambda x, y, out: np.exp(y - out))
elementwise(np.logaddexp2, lambda x, y, out: np.exp2(x - out), lambda x, y, out: np.exp2(y - out))

# --- trigonometric and hyperbolic -------------------------------------------------------------
elementwise(np.sin, lambda x, out: np.cos(x))
elementwise(np.cos, lambda x, out: -np.sin(x))
elementwise(np.tan, lambda x, out: 1 + out * out)
pole(np.arcsin, lambda x, out: inverse(np.sqrt(1 - x * x)))
pole(np.arccos, lambda x, out: -inverse(np.sqrt(1 - x * x)))
elementwise(np.arctan, lambda x, out: inverse(1 + x * x))
elementwise(np.sinh, lambda x, out: np.cosh(x))
elementwise(np.cosh, lambda x, out: np.sinh(x))
elementwise(np.tanh, lambda x, out: 1 - out * out)
elementwise(np.arcsinh, lambda x, out: inverse(np.sqrt(x * x + 1)))
pole(np.arccosh, lambda x, out: inverse(np.sqrt(x * x - 1)))
pole(np.arctanh, lambda x, out: inverse(1 - x * x))
elementwise(np.arctan2, lambda y, x, out: safe_divide(x, x * x + y * y),
        lambda y, x, out: safe_divide(-y, x * x + y * y))
elementwise(np.hypot, lambda x, y, out: safe_divide(x, out), lambda x, y, out: safe_divide(y, out))
elementwise(np.deg2rad, np.pi / 180)
elementwise(np.rad2deg, 180 / np.pi)


# sinc' = (cos πx − sinc x) / x cancels catastrophically near 0 and is 0/0 at 0. There a
# Taylor series in u = (πx)² takes over: sinc'(x) = π²x · Σ_k c_k u^(k−1). Both branches are
# NumPy code on x, so every higher derivative is AD of them (sinc''(0) = −π²/3, not 0).
# 13 terms reach double precision for |x| < 1/2, where the quotient no longer cancels.
_SINC_SERIES = [(-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, 14)]
_SINC_NEAR = 0.5


def _d_sinc(x, out):
    near = np.abs(x) < _SINC_NEAR
    x_near = np.where(near, x, 0)   # each branch sees only its own points: nothing overflows
    x_far = np.where(near, 1, x)
    u = (np.pi * x_near) ** 2
    series = 0.0
    for c in reversed(_SINC_SERIES):
        series = series * u + c
    return np.where(near, np.pi ** 2 * x_near * series, (np.cos(np.pi * x_far) - out) / x_far)


elementwise(np.sinc, _d_sinc)

# --- piecewise: kinks get the subgradient 0, ties split evenly ----------------------------------


def _tie_weight(mine, other, out):
    """Share of the cotangent for the argument ``mine`` of max/min-like functions: 1 where it
    alone was chosen, 1/2 on a tie, 0 otherwise (also where a NaN was chosen)."""
    chosen = out == mine
    return np.where(chosen & (out == other), _half(out), chosen)


def _half(out):
    """1/2 in the real precision of ``out``, so that float32 weights keep float32 tangents."""
    dtype = dtype_of(out)
    return np.finfo(dtype).dtype.type(0.5) if dtype.kind in "fc" else 0.5


for _select in (np.maximum, np.minimum, np.fmax, np.fmin):   # weights are finite: no mask
    elementwise(_select, lambda x, y, out: _tie_weight(x, y, out),
                lambda x, y, out: _tie_weight(y, x, out), selection=True)

elementwise(np.copysign, lambda x, y, out: np.sign(x) * np.sign(out), 0)   # a sign: flat in y
elementwise(np.fabs, lambda x, out: np.sign(x))


def _d_absolute(x, out):
    # Real: sign(x), 0 at the kink. Complex: the gradient of |z| is z/|z|, 0 at z == 0.
    return safe_divide(x, out) if dtype_of(x).kind == "c" else np.sign(x)


elementwise(np.absolute, _d_absolute)


def _map_values(t, f, dtype):
    """Tangent ``t`` through ``f``, a map linear over the reals applied elementwise (conj,
    real, imag): an ``Indexed`` tangent maps only its values and stays sparse."""
    if isinstance(t, Indexed):
        return Indexed(t.index, f(t.values), t.shape, dtype)
    return f(t)


@reverse(np.conjugate)
def _conjugate(needs, x):
    return np.conjugate(x), lambda ct: (np.conjugate(ct),)


@forward(np.conjugate)
def _conjugate_forward(tangents, x):
    out = np.conjugate(x)
    return out, _map_values(tangents[0], np.conjugate, dtype_of(out))


@reverse(np.real)
def _real(needs, x):
    return np.real(x), lambda ct: (ct,)


@forward(np.real)
def _real_forward(tangents, x):
    out = np.real(x)
    return out, _map_values(tangents[0], np.real, dtype_of(out))


@reverse(np.imag)
def _imag(needs, x):
    if dtype_of(x).kind != "c":
        return np.imag(x), lambda ct: (ZERO,)
    return np.imag(x), lambda ct: (1j * ct,)


@forward(np.imag)
def _imag_forward(tangents, x):
    out = np.imag(x)
    if not is_complex(x):       # a real input moves along the real axis only
        return out, ZERO
    return out, _map_values(tangents[0], np.imag, dtype_of(out))


def _angle_direction(deg):
    """The gradient direction of angle(z): i·z/|z|² (0 at z == 0), in degrees if asked."""
    unit = 180 / np.pi if deg else 1

    def direction(z, out):
        return unit * safe_divide(1j * z, z * np.conjugate(z))

    return direction


@reverse(np.angle)
def _angle(needs, z, deg=False):
    out = np.angle(z, deg=deg)
    scale = 180 / np.pi if deg else 1

    def angle_pullback(ct):
        if dtype_of(z).kind != "c":
            return (ZERO,)
        return (ct * scale * safe_divide(1j * z, z * np.conjugate(z)),)

    return out, angle_pullback


@forward(np.angle)
def _angle_forward(tangents, z, deg=False):
    out = np.angle(z, deg=deg)
    t = tangents[0]
    if is_zero(t) or not is_complex(z):   # the angle of a real number is piecewise constant
        return out, ZERO
    return out, push_partial(t, _angle_direction(deg), z, (z,), out, False)


def _clip_bounds(lo, hi, kwargs):
    """clip's bounds, however they were passed (a_min/a_max, or min/max in NumPy 2)."""
    lo = kwargs.pop("a_min", kwargs.pop("min", lo))
    hi = kwargs.pop("a_max", kwargs.pop("max", hi))
    return lo, hi


@reverse(np.clip)
def _clip(needs, x, lo=None, hi=None, **kwargs):
    lo, hi = _clip_bounds(lo, hi, kwargs)
    out = np.clip(x, lo, hi, **kwargs)

    def clip_pullback(ct):
        # clip(x, lo, hi) is minimum(maximum(x, lo), hi), with the same subgradients: a tie
        # with a bound splits evenly, and with lo > hi everything goes to hi, as numpy does.
        lower = x if lo is None else np.maximum(x, lo)
        to_lower = ct if hi is None else ct * _tie_weight(lower, hi, out)
        dx = to_lower if lo is None else to_lower * _tie_weight(x, lo, lower)
        grads = [unbroadcast(x, dx), ZERO, ZERO]
        if len(needs) > 1 and needs[1] and lo is not None:
            grads[1] = unbroadcast(lo, to_lower * _tie_weight(lo, x, lower))
        if len(needs) > 2 and needs[2] and hi is not None:
            grads[2] = unbroadcast(hi, ct * _tie_weight(hi, lower, out))
        return tuple(grads[: len(needs)])

    return out, clip_pullback


_maximum_forward = forward_rules.entries[np.maximum][0].impl
_minimum_forward = forward_rules.entries[np.minimum][0].impl


@forward(np.clip)
def _clip_forward(tangents, x, lo=None, hi=None, **kwargs):
    # As minimum(maximum(x, lo), hi): the forward rules of those give the same subgradients
    # as the pullback above and keep a sparse tangent of x sparse.
    lo, hi = _clip_bounds(lo, hi, kwargs)
    out = np.clip(x, lo, hi, **kwargs)
    t_x, t_lo, t_hi = (tuple(tangents) + (ZERO, ZERO))[:3]
    lower, t_lower = (x, t_x) if lo is None else _maximum_forward((t_x, t_lo), x, lo)
    if hi is None:
        return out, t_lower
    return out, _minimum_forward((t_lower, t_hi), lower, hi)[1]


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
