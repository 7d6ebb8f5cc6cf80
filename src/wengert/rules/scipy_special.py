"""Rules for scipy.special, loaded when the program imports it (see _reach). Its ufuncs reach
wengert through NumPy's protocol, like np.sin, and are declared by their partial derivatives
(``smooth``; scipy_special_more.py holds the Bessel, elliptic and polynomial families).
logsumexp, softmax, log_softmax, polygamma, zeta, lambertw and multigammaln call np.asarray:
they are reached through doors. Every ufunc is declared, non-differentiable (integer-valued),
or in ``UNSUPPORTED`` with the reason its error repeats.
"""
import math

import numpy as np
import scipy.special as sp

from ..arraytypes import concrete
from ..errors import DifferentiationError, name_of
from ._helpers import (derived_through, elementwise, forward, is_complex, non_differentiable,
                       reverse)
from ._reach import reach
from .scipy_special_declare import Fixed, integer, near, parameter, smooth
from . import scipy_special_more  # noqa: F401  (Bessel, elliptic, orthogonal polynomials)
from . import scipy_special_softmax  # noqa: F401  (logsumexp, softmax, log_softmax)

SQRT_PI, SQRT_2PI = math.sqrt(math.pi), math.sqrt(2 * math.pi)
DEGREE = math.pi / 180
polygamma, zeta = reach(sp, "polygamma"), reach(sp, "zeta")
lambertw, multigammaln = reach(sp, "lambertw"), reach(sp, "multigammaln")

# --- Gamma and beta functions ---------------------------------------------------------------------
smooth(sp.gamma, lambda x, out: out * sp.digamma(x), singular=True)
smooth(sp.gammaln, lambda x, out: sp.digamma(x), singular=True)
smooth(sp.loggamma, lambda x, out: sp.digamma(x), singular=True)
smooth(sp.digamma, lambda x, out: sp.polygamma(1, x), singular=True,
       real="its derivative, the trigamma function, has no complex implementation in SciPy")
smooth(polygamma, integer(), lambda n, x, out: sp.polygamma(n + 1, x), singular=True,
       call=sp.polygamma)


def _d_rgamma(x, out):
    """(1/Γ)' = −ψ/Γ is 0·∞ at x = 0, −1, ...: left of 1/2, 1/Γ(x) = sin(πx)·Γ(1 − x)/π."""
    if is_complex(x):
        return -sp.digamma(x) * out
    left = x < 0.5
    at_left, at_right = np.where(left, x, 0), np.where(left, 1, x)
    reflected = sp.gamma(1 - at_left) * (np.cos(np.pi * at_left) - np.sin(np.pi * at_left)
                                         * sp.digamma(1 - at_left) / np.pi)
    return np.where(left, reflected, -sp.digamma(at_right) * sp.rgamma(at_right))


smooth(sp.rgamma, _d_rgamma)
smooth(sp.beta, lambda a, b, out: out * (sp.digamma(a) - sp.digamma(a + b)),
       lambda a, b, out: out * (sp.digamma(b) - sp.digamma(a + b)), singular=True)
smooth(sp.betaln, lambda a, b, out: sp.digamma(a) - sp.digamma(a + b),
       lambda a, b, out: sp.digamma(b) - sp.digamma(a + b), singular=True)
smooth(sp.binom, lambda n, k, out: out * (sp.digamma(n + 1) - sp.digamma(n - k + 1)),
       lambda n, k, out: out * (sp.digamma(n - k + 1) - sp.digamma(k + 1)), singular=True)
smooth(sp.poch, lambda z, m, out: out * (sp.digamma(z + m) - sp.digamma(z)),
       lambda z, m, out: out * sp.digamma(z + m), singular=True)
# ζ(s, q): ∂/∂q = −s·ζ(s + 1, q); ∂/∂s (also of Riemann's ζ) has no closed form
smooth(zeta, Fixed("x", "the exponent s of ζ(s, q), in which ζ'(s) has no closed form"),
       lambda x, q, out: -x * sp.zeta(x + 1, q), singular=True, call=sp.zeta)
# W' = 1/((1 + W)·e^W); k and tol may be left out, so the output is the last argument
smooth(lambertw, lambda z, *k_tol_out: 1 / ((1 + k_tol_out[-1]) * np.exp(k_tol_out[-1])),
       integer("k"), parameter("tol"), singular=True, call=sp.lambertw)


@derived_through(multigammaln)
def _multigammaln(a, d):
    """log Γ_d(a) = d(d−1)/4·log π + Σ_j<d log Γ(a − j/2), checked as SciPy checks it."""
    if d is not concrete(d):
        raise integer("d").error(multigammaln)
    multigammaln(concrete(a), d)   # SciPy's checks of a and d, on values
    return d * (d - 1) / 4 * math.log(math.pi) + sum(sp.gammaln(a - j / 2) for j in range(d))


# --- Distribution functions, in their variable ----------------------------------------------------
# (not in shape parameters, nor counts, which SciPy floors): cdf' = density, inverse' = 1/density

def distribution(density, fixed, cdf, complement=None, inverse=None, complement_inverse=None):
    for fn, sign, inverted in ((cdf, 1, False), (complement, -1, False), (inverse, 1, True),
                               (complement_inverse, -1, True)):
        if fn is not None and inverted:
            smooth(fn, *fixed, lambda *a, s=sign: s / density(*a[:-2], a[-1]), singular=True)
        elif fn is not None:
            smooth(fn, *fixed, lambda *a, s=sign: s * density(*a[:-1]), singular=True)


def gamma_density(a, x):
    """∂/∂x gammainc(a, x) = x^(a−1)·e^(−x)/Γ(a) (xlogy: 0 at x = 0 when a = 1)."""
    return np.exp(sp.xlogy(a - 1, x) - x - sp.gammaln(a))


def beta_density(a, b, x):
    """∂/∂x betainc(a, b, x) = x^(a−1)·(1−x)^(b−1)/B(a, b)."""
    return np.exp(sp.xlogy(a - 1, x) + sp.xlog1py(b - 1, -x) - sp.betaln(a, b))


def _chi2_density(x, df, nc):
    """The noncentral χ² density (its Bessel form, scaled by ive); the central one at nc = 0."""
    positive = np.where(nc == 0, 1, nc)
    root = np.sqrt(positive * x)
    return np.where(nc == 0, gamma_density(df / 2, x / 2) / 2, 0.5 * sp.ive(df / 2 - 1, root)
                    * np.exp(root - (x + positive) / 2) * (x / positive) ** (df / 4 - 0.5))


A, B, K, N, DF = parameter("a"), parameter("b"), integer("k"), integer("n"), parameter("df")
distribution(gamma_density, [A], sp.gammainc, sp.gammaincc, sp.gammaincinv, sp.gammainccinv)
distribution(beta_density, [A, B], sp.betainc, sp.betaincc, sp.betaincinv, sp.betainccinv)
# bdtr(k, n, p) = betainc(n − k, k + 1, 1 − p), nbdtr(k, n, p) = betainc(n, k + 1, p),
# pdtr(k, m) = gammaincc(k + 1, m), chdtr(v, x) = gammainc(v/2, x/2) (chdtri inverts chdtrc),
# fdtr(d1, d2, x) = betainc(d1/2, d2/2, d1·x/(d1·x + d2))
distribution(lambda k, n, p: -beta_density(np.floor(k) + 1, n - np.floor(k), p), [K, N],
             sp.bdtr, sp.bdtrc, sp.bdtri)
distribution(lambda k, n, p: beta_density(n, np.floor(k) + 1, p), [K, N],
             sp.nbdtr, sp.nbdtrc, sp.nbdtri)
distribution(lambda k, m: -gamma_density(np.floor(k) + 1, m), [K], sp.pdtr, sp.pdtrc, sp.pdtri)
distribution(lambda v, x: gamma_density(v / 2, x / 2) / 2, [DF], sp.chdtr, sp.chdtrc,
             complement_inverse=sp.chdtri)
distribution(lambda d1, d2, x: beta_density(d1 / 2, d2 / 2, d1 * x / (d1 * x + d2))
             * d1 * d2 / (d1 * x + d2) ** 2, [DF, DF], sp.fdtr, sp.fdtrc, sp.fdtri)
distribution(lambda df, t: np.exp(sp.gammaln((df + 1) / 2) - sp.gammaln(df / 2) - (df + 1) / 2
                                  * np.log1p(t * t / df)) / np.sqrt(df * np.pi),
             [DF], sp.stdtr, inverse=sp.stdtrit)
smooth(sp.chndtr, lambda x, df, nc, out: _chi2_density(x, df, nc), DF, parameter("nc"),
       singular=True)
smooth(sp.chndtrix, lambda p, df, nc, out: 1 / _chi2_density(out, df, nc), DF, parameter("nc"),
       singular=True)
# gdtr(a, b, x) = gammainc(b, a·x): a is a rate, b the shape
for _f, _s in ((sp.gdtr, 1), (sp.gdtrc, -1)):
    smooth(_f, lambda a, b, x, out, s=_s: s * x * gamma_density(b, a * x), B,
           lambda a, b, x, out, s=_s: s * a * gamma_density(b, a * x), singular=True)
smooth(sp.gdtria, lambda p, b, x, out: 1 / (x * gamma_density(b, out * x)), B,
       lambda p, b, x, out: -out / x, singular=True)
smooth(sp.gdtrix, lambda a, b, p, out: -out / a, B,
       lambda a, b, p, out: 1 / (a * gamma_density(b, a * out)), singular=True)
# Φ((x − mean)/std) = p solved for the mean (x − std·z) or the std ((x − mean)/z), z = ndtri(p)
smooth(sp.nrdtrimn, lambda p, std, x, out: -std * SQRT_2PI * np.exp(sp.ndtri(p) ** 2 / 2),
       lambda p, std, x, out: -sp.ndtri(p), 1, singular=True)
smooth(sp.nrdtrisd, lambda mean, p, x, out: -1 / sp.ndtri(p),
       lambda mean, p, x, out: -out * SQRT_2PI * np.exp(sp.ndtri(p) ** 2 / 2) / sp.ndtri(p),
       lambda mean, p, x, out: 1 / sp.ndtri(p), singular=True)
# the Tukey-lambda quantile Q(F) = (F^λ − (1−F)^λ)/λ has Q' = F^(λ−1) + (1−F)^(λ−1)
smooth(sp.tklmbda, lambda x, lam, out: 1 / (out ** (lam - 1) + (1 - out) ** (lam - 1)),
       parameter("lmbda"), singular=True)

# --- Error functions, the normal distribution -----------------------------------------------------
elementwise(sp.erf, lambda z, out: 2 / SQRT_PI * np.exp(-z * z))
elementwise(sp.erfc, lambda z, out: -2 / SQRT_PI * np.exp(-z * z))
elementwise(sp.erfcx, lambda z, out: 2 * z * out - 2 / SQRT_PI)
elementwise(sp.erfi, lambda z, out: 2 / SQRT_PI * np.exp(z * z))
elementwise(sp.erfinv, lambda y, out: SQRT_PI / 2 * np.exp(out * out), singular=True)
elementwise(sp.erfcinv, lambda y, out: -SQRT_PI / 2 * np.exp(out * out), singular=True)
elementwise(sp.dawsn, lambda z, out: 1 - 2 * z * out)
elementwise(sp.wofz, lambda z, out: 2j / SQRT_PI - 2 * z * out)
elementwise(sp.ndtr, lambda z, out: np.exp(-z * z / 2) / SQRT_2PI)
# φ(x)/Φ(x) as exp(log φ − log Φ): no 0/0 far in the lower tail
elementwise(sp.log_ndtr, lambda z, out: np.exp(-z * z / 2 - out) / SQRT_2PI)
elementwise(sp.ndtri, lambda p, out: SQRT_2PI * np.exp(out * out / 2), singular=True)
elementwise(sp.ndtri_exp, lambda y, out: SQRT_2PI * np.exp(y + out * out / 2), singular=True)
elementwise(sp.owens_t, lambda h, a, out: -np.exp(-h * h / 2) * sp.erf(a * h / math.sqrt(2))
            / (2 * SQRT_2PI), lambda h, a, out: np.exp(-h * h * (1 + a * a) / 2)
            / (2 * np.pi * (1 + a * a)))


def _voigt(x, sigma, gamma, out):
    """The partials of V = Re w(z)/(σ√(2π)), z = (x + iγ)/(σ√2), by w' = 2i/√π − 2zw."""
    z = (x + 1j * gamma) / (sigma * math.sqrt(2))
    dw = (2j / SQRT_PI - 2 * z * sp.wofz(z)) / (sigma * sigma * 2 * SQRT_PI)
    return np.real(dw), -out / sigma - math.sqrt(2) * np.real(dw * z), -np.imag(dw)


smooth(sp.voigt_profile, *(lambda *a, i=i: _voigt(*a)[i] for i in range(3)), singular=True)

# --- Logistic functions, information measures -----------------------------------------------------
# xlogy(0, y) = 0 for every y: its partial in y is 0 where x = 0, at (0, 0) too (no 0/0 there)


def _over(x, y, at=0):
    return x / np.where((x == 0) & (y == at), 1, y)


elementwise(sp.expit, lambda x, out: out * sp.expit(-x))
elementwise(sp.logit, lambda p, out: 1 / (p * (1 - p)), singular=True)
elementwise(sp.log_expit, lambda x, out: sp.expit(-x))
elementwise(sp.xlogy, lambda x, y, out: np.log(y), lambda x, y, out: _over(x, y), singular=True)
elementwise(sp.xlog1py, lambda x, y, out: np.log1p(y), lambda x, y, out: _over(x, 1 + y),
            singular=True)
elementwise(sp.entr, lambda x, out: -np.log(x) - 1, singular=True)
elementwise(sp.rel_entr, lambda x, y, out: np.log(x) - np.log(y) + 1,
            lambda x, y, out: -_over(x, y), singular=True)
elementwise(sp.kl_div, lambda x, y, out: np.log(x) - np.log(y),
            lambda x, y, out: 1 - _over(x, y), singular=True)
elementwise(sp.huber, lambda delta, r, out: np.where(np.abs(r) <= delta, 0, np.abs(r) - delta),
            lambda delta, r, out: np.where(np.abs(r) <= delta, r, delta * np.sign(r)))
# pseudo_huber = δ²(√(1 + (r/δ)²) − 1) = δ(h − δ), h = hypot(δ, r): (h − δ)²/h and δr/h
elementwise(sp.pseudo_huber, lambda d, r, out: _over((np.hypot(d, r) - d) ** 2, np.hypot(d, r)),
            lambda d, r, out: _over(d * r, np.hypot(d, r)))

# --- Exponentials, logarithms, degrees, exponential integrals, Box-Cox transforms -----------------
elementwise(sp.cbrt, lambda x, out: 1 / (3 * out * out), singular=True)
elementwise(sp.exp2, lambda x, out: out * math.log(2))
elementwise(sp.exp10, lambda x, out: out * math.log(10))
elementwise(sp.expm1, lambda z, out: out + 1)
elementwise(sp.log1p, lambda z, out: 1 / (1 + z), singular=True)
elementwise(sp.cosm1, lambda x, out: -np.sin(x))
elementwise(sp.sindg, lambda x, out: DEGREE * sp.cosdg(x))
elementwise(sp.cosdg, lambda x, out: -DEGREE * sp.sindg(x))
elementwise(sp.tandg, lambda x, out: DEGREE * (1 + out * out), singular=True)
elementwise(sp.cotdg, lambda x, out: -DEGREE * (1 + out * out), singular=True)
smooth(sp.radian, DEGREE, DEGREE / 60, DEGREE / 3600)
elementwise(sp.exp1, lambda z, out: -np.exp(-z) / z, singular=True)
elementwise(sp.expi, lambda z, out: np.exp(z) / z, singular=True)
# E_n' = −E_{n−1}, and E_0(x) = e^(−x)/x has E_0' = −E_0·(1 + 1/x)
smooth(sp.expn, integer(), lambda n, x, out: np.where(
    n == 0, -out * (1 + 1 / x), -sp.expn(np.maximum(n - 1, 0), x)), singular=True)
elementwise(sp.wrightomega, lambda z, out: out / (1 + out), singular=True)
elementwise(sp.powm1, lambda x, y, out: y * np.power(x, y - 1), lambda x, y, out: np.where(
    x == 0, 0, np.log(np.where(x == 0, 1, x)) * (out + 1)), singular=True)
# Near 0 a Taylor series replaces each quotient that cancels: spence' = log(z)/(1 − z),
# exprel' = (e^x − exprel x)/x and (log1p(u)/u)'.
elementwise(sp.spence, lambda z, out: near(1 - z, 0, 0.1, [-1 / (k + 1) for k in range(17)],
                                           lambda w: np.log(1 - w) / w), singular=True)


def d_exprel(x):
    return near(x, 0, 0.5, [(k + 1) / math.factorial(k + 2) for k in range(16)],
                lambda x: (np.exp(x) - sp.exprel(x)) / x)


def _d_log1p_ratio(u):
    return near(u, 0, 0.1, [(-1) ** k * k / (k + 1) for k in range(1, 18)],
                lambda u: (u / (1 + u) - np.log1p(u)) / (u * u))


elementwise(sp.exprel, lambda x, out: d_exprel(x))
# boxcox(x, λ) = log(x)·exprel(λ·log x) and inv_boxcox(y, λ) = exp(y·log1p(λy)/(λy)) are
# smooth through λ = 0, where SciPy switches to log and exp
elementwise(sp.boxcox, lambda x, lam, out: np.power(x, lam - 1),
            lambda x, lam, out: np.log(x) ** 2 * d_exprel(lam * np.log(x)), singular=True)
elementwise(sp.boxcox1p, lambda x, lam, out: np.power(1 + x, lam - 1),
            lambda x, lam, out: np.log1p(x) ** 2 * d_exprel(lam * np.log1p(x)), singular=True)
elementwise(sp.inv_boxcox, lambda y, lam, out: out / (1 + lam * y),
            lambda y, lam, out: out * y * y * _d_log1p_ratio(lam * y), singular=True)
elementwise(sp.inv_boxcox1p, lambda y, lam, out: (out + 1) / (1 + lam * y),
            lambda y, lam, out: (out + 1) * y * y * _d_log1p_ratio(lam * y), singular=True)

# --- Hypergeometric functions, in z: of the family, parameters shifted (DLMF 15.5.1, 13.3.15) ---
P = parameter
smooth(sp.hyp0f1, P("v"), lambda v, z, out: sp.hyp0f1(v + 1, z) / v)
smooth(sp.hyp1f1, P("a"), P("b"), lambda a, b, z, out: a / b * sp.hyp1f1(a + 1, b + 1, z))
smooth(sp.hyp2f1, P("a"), P("b"), P("c"),
       lambda a, b, c, z, out: a * b / c * sp.hyp2f1(a + 1, b + 1, c + 1, z), singular=True)
smooth(sp.hyperu, P("a"), P("b"), lambda a, b, z, out: -a * sp.hyperu(a + 1, b + 1, z),
       singular=True)
smooth(sp.wright_bessel, P("a"), P("b"), lambda a, b, x, out: sp.wright_bessel(a, a + b, x))
smooth(sp.log_wright_bessel, P("a"), P("b"),
       lambda a, b, x, out: np.exp(sp.log_wright_bessel(a, a + b, x) - out))
# ∫_0^1 x^λ J_ν(2ax) dx: the a-derivative is the same integral of x^(λ+1)·(J_{ν−1} − J_{ν+1})
smooth(sp.besselpoly, lambda a, lam, nu, out: sp.besselpoly(a, lam + 1, nu - 1)
       - sp.besselpoly(a, lam + 1, nu + 1), P("lmb"), P("nu"))

# --- What is not differentiated, and why (the census test reads these tables) ---------------------
NON_DIFFERENTIABLE = (sp.round, sp.gammasgn)   # integer-valued: derivative 0 where defined
non_differentiable(*NON_DIFFERENTIABLE)
UNSUPPORTED = {
    **dict.fromkeys("bdtrik bdtrin btdtria btdtrib chdtriv chndtridf chndtrinc fdtridfd gdtrib "
                    "nbdtrik nbdtrin ncfdtridfd ncfdtridfn ncfdtrinc nctdtridf nctdtrinc pdtrik "
                    "stdtridf".split(), "it solves a distribution function for a shape or "
                    "degrees-of-freedom parameter, whose derivative has no closed form"),
    **dict.fromkeys("ncfdtr ncfdtri nctdtr nctdtrit".split(),
                    "SciPy provides no closed-form density of the noncentral F or t distribution"),
    **dict.fromkeys("kolmogorov kolmogi smirnov smirnovi".split(),
                    "SciPy computes its derivative only in private functions"),
    **dict.fromkeys([f"{kind}_{f}" for kind in ("obl", "pro") for f in (
        "ang1", "ang1_cv", "cv", "rad1", "rad1_cv", "rad2", "rad2_cv")],
        "spheroidal wave functions have no closed-form derivative in m, n or c, and their "
        "x-derivative would need the spheroidal wave equation, not implemented"),
    **dict.fromkeys(["mathieu_a", "mathieu_b"],
                    "a Mathieu characteristic value has no closed-form derivative in q"),
    "zetac": "the derivative of the Riemann zeta function has no closed form",
    "sph_harm": "SciPy deprecated it for sph_harm_y (and removed it in 1.17)",
}
UNSUPPORTED = {getattr(sp, name): why for name, why in UNSUPPORTED.items() if hasattr(sp, name)}


def _refusal(fn, why):
    def refuse(*_, **__):
        raise DifferentiationError(
            f"wengert has no derivative of {name_of(fn)}: {why}. Cut the derivative on purpose "
            "with wg.stop_gradient(x), or give the function a rule with @wg.rrule(fn) (and "
            "@wg.frule).")
    return refuse


for _fn, _why in UNSUPPORTED.items():
    reverse(_fn)(_refusal(_fn, _why))
    forward(_fn)(_refusal(_fn, _why))
