"""scipy.special, continued (imported by scipy_special.py): the Bessel family with Struve,
Kelvin, Airy, parabolic cylinder and Mathieu functions and integrals of some; elliptic
integrals; orthogonal polynomials. Derivatives are NumPy and
scipy.special calls, whose own rules give every higher derivative. An argument with no
closed-form derivative (the order v of jv) is ``Fixed``: traced, it is an error saying why.
"""
import math

import numpy as np
import scipy.special as sp

from ._helpers import elementwise
from .scipy_special_declare import integer, near, order, parameter, polynomial, several, smooth

SQRT_PI = math.sqrt(math.pi)


# --- Bessel functions -----------------------------------------------------------------------------
# f'_v = (f_{v−1} ∓ f_{v+1})/2 (DLMF 10.6, 10.29); a scaled function adds the derivative of its
# scale factor. Orders 0 and 1 use the same form: no 1/x at 0.

def _next(f, sign=-1, scale=0):
    flip = -1 if f in (sp.kv, sp.kn, sp.kve) else 1
    return lambda v, z, out: flip * (f(v - 1, z) + sign * f(v + 1, z)) / 2 + scale * out


NOT_HOLOMORPHIC = "for complex z its scale factor exp(-|Im z|) or exp(-|Re z|) is not holomorphic"
smooth(sp.jv, order(), _next(sp.jv))
smooth(sp.iv, order(), _next(sp.iv, 1))
for _f, _sign in ((sp.yv, -1), (sp.kv, 1), (sp.hankel1, -1), (sp.hankel2, -1)):
    smooth(_f, order(), _next(_f, _sign), singular=True)
smooth(sp.yn, integer(), _next(sp.yn), singular=True)
smooth(sp.kn, integer(), _next(sp.kn, 1), singular=True)
smooth(sp.kve, order(), _next(sp.kve, 1, scale=1), singular=True)
smooth(sp.hankel1e, order(), _next(sp.hankel1e, scale=-1j), singular=True)
smooth(sp.hankel2e, order(), _next(sp.hankel2e, scale=1j), singular=True)
smooth(sp.jve, order(), _next(sp.jve), real=NOT_HOLOMORPHIC)
smooth(sp.yve, order(), _next(sp.yve), singular=True, real=NOT_HOLOMORPHIC)
smooth(sp.ive, order(), lambda v, x, out: _next(sp.ive, 1)(v, x, out) - np.sign(x) * out,
       real=NOT_HOLOMORPHIC)
elementwise(sp.j0, lambda x, out: -sp.j1(x))
elementwise(sp.j1, lambda x, out: (sp.j0(x) - sp.jv(2, x)) / 2)
elementwise(sp.y0, lambda x, out: -sp.y1(x), singular=True)
elementwise(sp.y1, lambda x, out: (sp.y0(x) - sp.yv(2, x)) / 2, singular=True)
elementwise(sp.i0, lambda x, out: sp.i1(x))
elementwise(sp.i1, lambda x, out: (sp.i0(x) + sp.iv(2, x)) / 2)
elementwise(sp.i0e, lambda x, out: sp.i1e(x) - np.sign(x) * out)
elementwise(sp.i1e, lambda x, out: (sp.i0e(x) + sp.ive(2, x)) / 2 - np.sign(x) * out)
elementwise(sp.k0, lambda x, out: -sp.k1(x), singular=True)
elementwise(sp.k1, lambda x, out: -(sp.k0(x) + sp.kv(2, x)) / 2, singular=True)
elementwise(sp.k0e, lambda x, out: out - sp.k1e(x), singular=True)
elementwise(sp.k1e, lambda x, out: out - (sp.k0e(x) + sp.kve(2, x)) / 2, singular=True)
# Struve functions: the Bessel recurrences plus (x/2)^v / (√π Γ(v + 3/2)) (DLMF 11.4.24, .26)
smooth(sp.struve, order(), lambda v, x, out: _next(sp.struve)(v, x, out)
       + np.power(x / 2, v) * sp.rgamma(v + 1.5) / (2 * SQRT_PI))
smooth(sp.modstruve, order(), lambda v, x, out: _next(sp.modstruve, 1)(v, x, out)
       + np.power(x / 2, v) * sp.rgamma(v + 1.5) / (2 * SQRT_PI))

# Kelvin functions: ber + i·bei = J0(x·e^(3πi/4)) and ker + i·kei = K0(x·e^(πi/4)), so their
# second derivatives are Bessel functions of those complex arguments (no 1/x at 0).
ROTATE_J, ROTATE_K = complex(np.exp(0.75j * np.pi)), complex(np.exp(0.25j * np.pi))


def be_second(x):
    return 0.5j * (sp.jv(0, ROTATE_J * x) - sp.jv(2, ROTATE_J * x))


def ke_second(x):
    return 0.5j * (sp.kv(0, ROTATE_K * x) + sp.kv(2, ROTATE_K * x))


elementwise(sp.ber, lambda x, out: sp.berp(x))
elementwise(sp.bei, lambda x, out: sp.beip(x))
elementwise(sp.berp, lambda x, out: np.real(be_second(x)))
elementwise(sp.beip, lambda x, out: np.imag(be_second(x)))
elementwise(sp.ker, lambda x, out: sp.kerp(x), singular=True)
elementwise(sp.kei, lambda x, out: sp.keip(x), singular=True)
elementwise(sp.kerp, lambda x, out: np.real(ke_second(x)), singular=True)
elementwise(sp.keip, lambda x, out: np.imag(ke_second(x)), singular=True)
several(sp.kelvin, lambda x, o: (o[2], o[3], be_second(x), ke_second(x)), singular=True)

# Airy functions: Ai'' = z·Ai; the scaled carry exp(±ζ), ζ = (2/3)·x^(3/2) (eBi none for x < 0)
several(sp.airy, lambda z, o: (o[1], z * o[0], o[3], z * o[2]))
several(sp.airye, lambda x, o: (o[1] + np.sqrt(np.maximum(x, 0)) * o[0],
                                x * o[0] + np.sqrt(np.maximum(x, 0)) * o[1],
                                o[3] - np.sqrt(np.maximum(x, 0)) * o[2],
                                x * o[2] - np.sqrt(np.maximum(x, 0)) * o[3]),
        singular=True, real="for complex z the scale of eBi, exp(-|Re ζ|), is not holomorphic")

# Integrals (of Bessel, Struve, Airy functions; Fresnel, sine, cosine): their integrands, with
# Taylor series of (I0(x) − 1)/x, (1 − J0(x))/x, H0(x)/x and sinh(x)/x where x → 0 gives 0/0.
_I0_SERIES = [0.0 if k % 2 == 0 else 1 / (4 ** ((k + 1) // 2) * math.factorial((k + 1) // 2) ** 2)
              for k in range(22)]
_J0_SERIES = [c * (-1) ** ((k - 1) // 2) for k, c in enumerate(_I0_SERIES)]
_H0_SERIES = [0.0 if k % 2 else (-1) ** (k // 2) / (2 ** (k + 1) * math.gamma(k // 2 + 1.5) ** 2)
              for k in range(24)]
_SINHC_SERIES = [0.0 if k % 2 else 1 / math.factorial(k + 1) for k in range(20)]
several(sp.iti0k0, lambda x, o: (sp.i0(x), sp.k0(x)), singular=True)
several(sp.itj0y0, lambda x, o: (sp.j0(x), sp.y0(x)), singular=True)
several(sp.it2i0k0, lambda x, o: (near(x, 0, 0.5, _I0_SERIES, lambda x: (sp.i0(x) - 1) / x),
                                  -sp.k0(x) / x), singular=True)
several(sp.it2j0y0, lambda x, o: (near(x, 0, 0.5, _J0_SERIES, lambda x: (1 - sp.j0(x)) / x),
                                  -sp.y0(x) / x), singular=True)
elementwise(sp.itstruve0, lambda x, out: sp.struve(0, x))
elementwise(sp.itmodstruve0, lambda x, out: sp.modstruve(0, x))
elementwise(sp.it2struve0, lambda x, out: -near(x, 0, 0.5, _H0_SERIES,
                                                lambda x: sp.struve(0, x) / x))
several(sp.itairy, lambda x, o: (sp.airy(x)[0], sp.airy(x)[2], sp.airy(-x)[0], sp.airy(-x)[2]))
several(sp.fresnel, lambda z, o: (np.sin(np.pi / 2 * z * z), np.cos(np.pi / 2 * z * z)))
several(sp.sici, lambda z, o: (np.sinc(z / np.pi), np.cos(z) / z), singular=True)
several(sp.shichi, lambda z, o: (near(z, 0, 0.5, _SINHC_SERIES, lambda z: np.sinh(z) / z),
                                 np.cosh(z) / z), singular=True)
# modified Fresnel integrals F±(x) = ∫_x^∞ exp(±it²) dt and K±(x) = exp(∓i(x² + π/4))·F±(x)/√π
several(sp.modfresnelp, lambda x, o: (-np.exp(1j * x * x),
                                      -2j * x * o[1] - complex(np.exp(-0.25j * np.pi)) / SQRT_PI))
several(sp.modfresnelm, lambda x, o: (-np.exp(-1j * x * x),
                                      2j * x * o[1] - complex(np.exp(0.25j * np.pi)) / SQRT_PI))

# Parabolic cylinder and Mathieu functions return their x-derivative; its own derivative comes
# from their differential equations (DLMF 12.2.2, 12.2.3, 28.2.1, 28.20.1).
several(sp.pbdv, order(), lambda v, x, o: (o[1], (x * x / 4 - v - 0.5) * o[0]))
several(sp.pbvv, order(), lambda v, x, o: (o[1], (x * x / 4 - v - 0.5) * o[0]))
several(sp.pbwa, parameter("a"), lambda a, x, o: (o[1], (a - x * x / 4) * o[0]))
DEGREE = math.pi / 180   # the angular Mathieu functions take degrees
for _f, _a in ((sp.mathieu_cem, sp.mathieu_a), (sp.mathieu_sem, sp.mathieu_b)):
    several(_f, integer("m"), parameter("q"), lambda m, q, x, o, a=_a: (
        DEGREE * o[1], DEGREE * (2 * q * np.cos(2 * DEGREE * x) - a(m, q)) * o[0]))
for _f in (sp.mathieu_modcem1, sp.mathieu_modcem2, sp.mathieu_modsem1, sp.mathieu_modsem2):
    _a = sp.mathieu_a if "cem" in _f.__name__ else sp.mathieu_b
    several(_f, integer("m"), parameter("q"), lambda m, q, x, o, a=_a: (
        o[1], (a(m, q) - 2 * q * np.cosh(2 * x)) * o[0]))

# --- Elliptic integrals ---------------------------------------------------------------------------
# dK/dm = (E − (1−m)K)/(2m(1−m)) and dE/dm = (E − K)/(2m) are 0/0 at m = 0: there the Taylor
# series take over (K = π/2·Σ c_n·m^n, c_n = ((1/2)_n/n!)²; E = π/2·Σ −c_n·m^n/(2n − 1)).
_HALF = [math.comb(2 * n, n) / 4 ** n for n in range(22)]   # (1/2)_n / n!
_DK = [np.pi / 2 * (n + 1) * _HALF[n + 1] ** 2 for n in range(20)]
_DE = [-np.pi / 2 * (n + 1) * _HALF[n + 1] ** 2 / (2 * n + 1) for n in range(20)]


def d_ellipk(m):
    return near(m, 0, 0.1, _DK,
                lambda m: (sp.ellipe(m) - (1 - m) * sp.ellipk(m)) / (2 * m * (1 - m)))


elementwise(sp.ellipk, lambda m, out: d_ellipk(m), singular=True)
elementwise(sp.ellipe, lambda m, out: near(m, 0, 0.1, _DE, lambda m: (sp.ellipe(m) - sp.ellipk(m))
                                           / (2 * m)), singular=True)
# K(1 − p) without forming 1 − p: E(1−p) and ellipkm1(p) keep the precision of a small p
elementwise(sp.ellipkm1, lambda p, out: -near(
    p, 1, 0.1, lambda p: polynomial(_DK, 1 - p),
    lambda p: (sp.ellipe(1 - p) - p * sp.ellipkm1(p)) / (2 * p * (1 - p))), singular=True)


def _incomplete_in_m(phi, m, coefficients):
    """∂/∂m Σ c_k·m^k·I_k(φ), I_k = ∫_0^φ sin^(2k): F(φ|m) for c_k = (1/2)_k/k!, E(φ|m) for
    c_k = −(1/2)_k/k!/(2k−1)."""
    sin, cos = np.sin(phi), np.cos(phi)
    integral, power, total = phi, sin, 0.0
    for k in range(1, len(coefficients)):
        integral = ((2 * k - 1) * integral - power * cos) / (2 * k)
        total = total + k * coefficients[k] * m ** (k - 1) * integral
        power = power * sin * sin
    return total


_E_SERIES = [-c / (2 * k - 1) for k, c in enumerate(_HALF[:20])]


def _ellipkinc_in_m(phi, m):
    return near(m, 0, 0.1, lambda m: _incomplete_in_m(phi, m, _HALF[:20]), lambda m: (
        (sp.ellipeinc(phi, m) / (1 - m) - sp.ellipkinc(phi, m)) / (2 * m)
        - np.sin(2 * phi) / (4 * (1 - m) * np.sqrt(1 - m * np.sin(phi) ** 2))))


elementwise(sp.ellipkinc, lambda phi, m, out: 1 / np.sqrt(1 - m * np.sin(phi) ** 2),
            lambda phi, m, out: _ellipkinc_in_m(phi, m), singular=True)
elementwise(sp.ellipeinc, lambda phi, m, out: np.sqrt(1 - m * np.sin(phi) ** 2),
            lambda phi, m, out: near(m, 0, 0.1, lambda m: _incomplete_in_m(phi, m, _E_SERIES),
                                     lambda m: (sp.ellipeinc(phi, m) - sp.ellipkinc(phi, m))
                                     / (2 * m)),
            singular=True)


def _ellipj_in_m(u, m, outs):
    # φ = am(u|m) solves F(φ|m) = u, so ∂φ/∂m = −dn·∂F/∂m; dn² = 1 − m·sn²
    sn, cn, dn, phi = outs
    d_phi = -dn * _ellipkinc_in_m(phi, m)
    return cn * d_phi, -sn * d_phi, -sn * (sn + 2 * m * cn * d_phi) / (2 * dn), d_phi


several(sp.ellipj, lambda u, m, o: (o[1] * o[2], -o[0] * o[2], -m * o[0] * o[1], o[2]),
        _ellipj_in_m, singular=True)

# Carlson's symmetric integrals (DLMF 19.18): ∂R_F/∂x = −R_D(y, z, x)/6 and its kin. The
# partials of R_C, R_D and R_J are differences over the difference of two arguments (0/0 where
# they coincide); Euler's relation for homogeneous functions gives the last one.
smooth(sp.elliprf, lambda x, y, z, out: -sp.elliprd(y, z, x) / 6,
       lambda x, y, z, out: -sp.elliprd(z, x, y) / 6,
       lambda x, y, z, out: -sp.elliprd(x, y, z) / 6, singular=True)
smooth(sp.elliprg, lambda x, y, z, out: (sp.elliprf(x, y, z) - x * sp.elliprd(y, z, x) / 3) / 4,
       lambda x, y, z, out: (sp.elliprf(x, y, z) - y * sp.elliprd(z, x, y) / 3) / 4,
       lambda x, y, z, out: (sp.elliprf(x, y, z) - z * sp.elliprd(x, y, z) / 3) / 4, singular=True)


def _rc(x, y, out):
    dx = (out - 1 / np.sqrt(x)) / (2 * (y - x))   # R_C(x, x) = 1/√x
    return dx, (-0.5 * out - x * dx) / y


def _rd(x, y, z, out):
    dx = (out - sp.elliprd(y, z, x)) / (2 * (z - x))
    dy = (out - sp.elliprd(z, x, y)) / (2 * (z - y))
    return dx, dy, (-1.5 * out - x * dx - y * dy) / z


def _rj(x, y, z, p, out):
    dx = (out - sp.elliprd(y, z, x)) / (2 * (p - x))
    dy = (out - sp.elliprd(z, x, y)) / (2 * (p - y))
    dz = (out - sp.elliprd(x, y, z)) / (2 * (p - z))
    return dx, dy, dz, (-1.5 * out - x * dx - y * dy - z * dz) / p


for _f, _partials, _n in ((sp.elliprc, _rc, 2), (sp.elliprd, _rd, 3), (sp.elliprj, _rj, 4)):
    smooth(_f, *(lambda *a, i=i, d=_partials: d(*a)[i] for i in range(_n)), singular=True)


def _agm_in_b(a, b):
    # agm(a, b) = a·f(b/a), f(t) = π / (2K(1 − t²)), so ∂/∂b = f'(t) = π·t·K'/K²
    t = b / a
    return np.pi * t * d_ellipk(1 - t * t) / sp.ellipk(1 - t * t) ** 2


elementwise(sp.agm, lambda a, b, out: out / a - b / a * _agm_in_b(a, b),
            lambda a, b, out: _agm_in_b(a, b), singular=True)

# --- Orthogonal polynomials, in x -----------------------------------------------------------------
# Each derivative is of the family, one degree lower (DLMF 18.9; the Gegenbauer form has no pole
# at x = ±1). Degree −1 gives 0, or is avoided where SciPy objects to it.
smooth(sp.eval_jacobi, integer(), parameter("alpha"), parameter("beta"),
       lambda n, a, b, x, out: (n + a + b + 1) / 2 * sp.eval_jacobi(n - 1, a + 1, b + 1, x))
smooth(sp.eval_sh_jacobi, integer(), parameter("p"), parameter("q"),
       lambda n, p, q, x, out: n * sp.eval_sh_jacobi(np.maximum(n - 1, 0), p + 2, q + 1, x))
smooth(sp.eval_gegenbauer, integer(), parameter("alpha"),
       lambda n, a, x, out: 2 * a * sp.eval_gegenbauer(n - 1, a + 1, x))
smooth(sp.eval_legendre, integer(), lambda n, x, out: sp.eval_gegenbauer(n - 1, 1.5, x))
smooth(sp.eval_sh_legendre, integer(),
       lambda n, x, out: 2 * sp.eval_gegenbauer(n - 1, 1.5, 2 * x - 1))
smooth(sp.eval_chebyt, integer(), lambda n, x, out: n * sp.eval_chebyu(n - 1, x))
smooth(sp.eval_chebyu, integer(), lambda n, x, out: 2 * sp.eval_gegenbauer(n - 1, 2, x))
smooth(sp.eval_chebyc, integer(), lambda n, x, out: n * sp.eval_chebyu(n - 1, x / 2))
smooth(sp.eval_chebys, integer(), lambda n, x, out: sp.eval_gegenbauer(n - 1, 2, x / 2))
smooth(sp.eval_sh_chebyt, integer(), lambda n, x, out: 2 * n * sp.eval_chebyu(n - 1, 2 * x - 1))
smooth(sp.eval_sh_chebyu, integer(),
       lambda n, x, out: 4 * sp.eval_gegenbauer(n - 1, 2, 2 * x - 1))
smooth(sp.eval_hermite, integer(),
       lambda n, x, out: 2 * n * sp.eval_hermite(np.maximum(n - 1, 0), x))
smooth(sp.eval_hermitenorm, integer(),
       lambda n, x, out: n * sp.eval_hermitenorm(np.maximum(n - 1, 0), x))
smooth(sp.eval_laguerre, integer(), lambda n, x, out: -sp.eval_genlaguerre(n - 1, 1, x))
smooth(sp.eval_genlaguerre, integer(), parameter("alpha"),
       lambda n, a, x, out: -sp.eval_genlaguerre(n - 1, a + 1, x))
# (x² − 1)·dP/dx = v·x·P_v^m − (v + m)·P_{v−1}^m (DLMF 14.10.5): poles at x = ±1
smooth(sp.lpmv, integer("m"), parameter("v"),
       lambda m, v, x, out: (v * x * out - (v + m) * sp.lpmv(m, v - 1, x)) / (x * x - 1),
       singular=True)
