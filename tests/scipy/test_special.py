"""scipy.special: every declared ufunc against central finite differences in both modes,
driven by one spec table (function, domain of each differentiable argument, constants for the
others), in float64 with broadcasting, float32, complex where the function is holomorphic,
and Python scalars. Then second derivatives in all four nestings (also at the exact points
0, 1, ... where the declarations switch to a series or a limit), the arguments without a
derivative, logsumexp/softmax/log_softmax, and the doors (polygamma, zeta, multigammaln)."""
import zlib

import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.special as sp  # noqa: E402  (imported here: its rules load with it)

import wengert as wg  # noqa: E402
from wengert.testing import check_grads  # noqa: E402

BOTH = ("reverse", "forward")


def rng_for(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


class Domain:
    """Where a differentiable argument is drawn from (real, or complex with ``im``)."""

    def __init__(self, lo, hi, im=None, away=False):
        self.lo, self.hi, self.im, self.away = lo, hi, im, away

    def draw(self, rng, shape):
        x = rng.uniform(self.lo, self.hi, shape)
        if self.away:   # ± a value in [lo, hi]: kinks and poles at 0 are avoided
            x = x * rng.choice([-1.0, 1.0], shape)
        if self.im is not None:
            x = x + 1j * rng.uniform(*self.im, shape)
        return x


U = Domain


def C(re, im):
    return Domain(*re, im=im)


class Spec:
    def __init__(self, fn, *args, complex=None, name=None, float32=True):
        self.fn, self.args, self.complex, self.float32 = fn, args, complex, float32
        self.name = name or fn.__name__
        self.slots = [i for i, a in enumerate(args) if isinstance(a, Domain)]

    def call(self, xs):
        args = list(self.args)
        for i, x in zip(self.slots, xs):
            args[i] = x
        return self.fn(*args)


I3 = np.array([0, 1, 3])
SPECS = [
    # gamma and beta functions
    Spec(sp.gamma, U(0.5, 3), complex=[C((0.5, 2), (-1, 1))]),
    Spec(sp.gammaln, U(0.5, 3)),
    Spec(sp.loggamma, U(0.5, 3), complex=[C((0.5, 2), (-1, 1))]),
    Spec(sp.rgamma, U(-1.8, 3), complex=[C((0.5, 2), (-1, 1))]),
    Spec(sp.digamma, U(0.5, 3)),
    Spec(sp.polygamma, np.array([0, 1, 2]), U(0.5, 3)),
    Spec(sp.beta, U(0.5, 3), U(0.5, 3)),
    Spec(sp.betaln, U(0.5, 3), U(0.5, 3)),
    Spec(sp.binom, U(2, 5), U(0.3, 1.5)),
    Spec(sp.poch, U(0.5, 2), U(0.2, 1.5)),
    Spec(sp.zeta, np.array([2.0, 3.0, 4.5]), U(0.5, 3)),
    Spec(lambda z: sp.lambertw(z), U(-0.3, 2), complex=[C((0.5, 2), (-1, 1))], name="lambertw"),
    Spec(lambda a: sp.multigammaln(a, 3), U(2, 4), name="multigammaln"),
    Spec(sp.gammainc, np.array([0.5, 1.0, 2.5]), U(0.3, 3)),
    Spec(sp.gammaincc, np.array([0.5, 1.0, 2.5]), U(0.3, 3)),
    Spec(sp.gammaincinv, np.array([0.5, 1.0, 2.5]), U(0.1, 0.9)),
    Spec(sp.gammainccinv, np.array([0.5, 1.0, 2.5]), U(0.1, 0.9)),
    Spec(sp.betainc, np.array([0.5, 1.0, 2.5]), 1.5, U(0.1, 0.9)),
    Spec(sp.betaincc, np.array([0.5, 1.0, 2.5]), 1.5, U(0.1, 0.9)),
    Spec(sp.betaincinv, np.array([0.5, 1.0, 2.5]), 1.5, U(0.1, 0.9)),
    Spec(sp.betainccinv, np.array([0.5, 1.0, 2.5]), 1.5, U(0.1, 0.9)),
    # error functions, normal distribution
    Spec(sp.erf, U(-2, 2), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.erfc, U(-2, 2), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.erfcx, U(-1, 3), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.erfi, U(-1.5, 1.5), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.erfinv, U(-0.9, 0.9)),
    Spec(sp.erfcinv, U(0.1, 1.9)),
    Spec(sp.dawsn, U(-2, 2), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.wofz, U(-2, 2), complex=[C((-2, 2), (0.2, 2))]),
    Spec(sp.ndtr, U(-3, 3), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.log_ndtr, U(-5, 3), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.ndtri, U(0.05, 0.95)),
    Spec(sp.ndtri_exp, U(-3, -0.1)),
    Spec(sp.owens_t, U(-2, 2), U(-2, 2)),
    Spec(sp.voigt_profile, U(-2, 2), U(0.5, 2), U(0.2, 2)),
    # logistic functions, information measures
    Spec(sp.expit, U(-4, 4)),
    Spec(sp.logit, U(0.1, 0.9)),
    Spec(sp.log_expit, U(-4, 4)),
    Spec(sp.xlogy, U(-2, 2), U(0.5, 3), complex=[C((-1, 1), (-1, 1)), C((0.5, 2), (-1, 1))]),
    Spec(sp.xlog1py, U(-2, 2), U(-0.5, 2),
         complex=[C((-1, 1), (-1, 1)), C((0.5, 2), (-1, 1))]),
    Spec(sp.entr, U(0.2, 3)),
    Spec(sp.rel_entr, U(0.2, 3), U(0.2, 3)),
    Spec(sp.kl_div, U(0.2, 3), U(0.2, 3)),
    Spec(sp.huber, U(0.8, 1.2), Domain(1.8, 2.5, away=True)),
    Spec(lambda d, r: sp.huber(d, r), U(1.0, 1.2), Domain(0.1, 0.7, away=True),
         name="huber-inside"),
    Spec(sp.pseudo_huber, U(0.5, 2), U(-2, 2)),
    # exponentials, logarithms, degrees, exponential integrals
    Spec(sp.cbrt, Domain(0.5, 2, away=True)),
    Spec(sp.exp2, U(-2, 2)),
    Spec(sp.exp10, U(-2, 2)),
    Spec(sp.expm1, U(-2, 2), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.log1p, U(-0.5, 2), complex=[C((0.5, 2), (-1, 1))]),
    Spec(sp.cosm1, U(-3, 3)),
    Spec(sp.sindg, U(-200, 200)),
    Spec(sp.cosdg, U(-200, 200)),
    Spec(sp.tandg, U(-80, 80)),
    Spec(sp.cotdg, U(10, 170)),
    Spec(sp.radian, U(-90, 90), U(0, 60), U(0, 60)),
    Spec(sp.exp1, U(0.2, 3), complex=[C((0.5, 2), (-1, 1))]),
    Spec(sp.expi, Domain(0.2, 3, away=True), complex=[C((0.5, 2), (-1, 1))]),
    Spec(sp.expn, I3 - (I3 == 3), U(0.3, 3)),
    Spec(sp.wrightomega, U(-2, 2), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.spence, U(0.2, 3), complex=[C((0.5, 2), (-1, 1))]),
    Spec(sp.exprel, U(-2, 2)),
    Spec(sp.boxcox, U(0.5, 3), U(-1, 1)),
    Spec(sp.boxcox1p, U(-0.5, 2), U(-1, 1)),
    Spec(sp.inv_boxcox, U(-0.5, 1), U(-0.5, 0.5)),
    Spec(sp.inv_boxcox1p, U(-0.5, 1), U(-0.5, 0.5)),
    Spec(sp.powm1, U(0.5, 3), U(-1, 2)),
    # distribution functions
    Spec(sp.bdtr, np.array([1, 2.5, 4]), 8, U(0.1, 0.9)),
    Spec(sp.bdtrc, np.array([1, 2.5, 4]), 8, U(0.1, 0.9)),
    Spec(sp.bdtri, np.array([1, 2.5, 4]), 8, U(0.1, 0.9)),
    Spec(sp.nbdtr, np.array([1, 2, 4]), 5, U(0.1, 0.9)),
    Spec(sp.nbdtrc, np.array([1, 2, 4]), 5, U(0.1, 0.9)),
    Spec(sp.nbdtri, np.array([1, 2, 4]), 5, U(0.1, 0.9)),
    Spec(sp.pdtr, np.array([0, 2, 3.5]), U(0.5, 4)),
    Spec(sp.pdtrc, np.array([0, 2, 3.5]), U(0.5, 4)),
    Spec(sp.pdtri, np.array([0, 2, 3]), U(0.1, 0.9)),
    Spec(sp.chdtr, np.array([1, 2.5, 4]), U(0.5, 4)),
    Spec(sp.chdtrc, np.array([1, 2.5, 4]), U(0.5, 4)),
    Spec(sp.chdtri, np.array([1, 2.5, 4]), U(0.1, 0.9)),
    Spec(sp.chndtr, U(0.5, 4), 3, np.array([0, 0.5, 2])),
    Spec(sp.chndtrix, U(0.1, 0.9), 3, np.array([0, 0.5, 2])),
    Spec(sp.gdtr, U(0.5, 2), 2.5, U(0.5, 3)),
    Spec(sp.gdtrc, U(0.5, 2), 2.5, U(0.5, 3)),
    Spec(sp.gdtria, U(0.1, 0.9), 2.5, U(0.5, 3)),
    Spec(sp.gdtrix, U(0.5, 2), 2.5, U(0.1, 0.9)),
    Spec(sp.fdtr, 3, 5, U(0.3, 3)),
    Spec(sp.fdtrc, 3, 5, U(0.3, 3)),
    Spec(sp.fdtri, 3, 5, U(0.1, 0.9)),
    Spec(sp.stdtr, np.array([1, 3.5, 10]), U(-3, 3)),
    Spec(sp.stdtrit, np.array([1, 3.5, 10]), U(0.1, 0.9)),
    Spec(sp.nrdtrimn, U(0.1, 0.9), U(0.5, 2), U(-2, 2)),
    Spec(sp.nrdtrisd, U(1, 2), U(0.1, 0.4), U(-1, 0)),
    Spec(sp.tklmbda, U(-1, 1), np.array([0.14, 0.5, -0.2])),
    # Bessel functions
    Spec(sp.jv, np.array([0, 1.5, -0.7]), U(0.5, 5), complex=[C((0.5, 3), (-1, 1))]),
    Spec(sp.yv, np.array([0, 1.5, -0.7]), U(0.5, 5), complex=[C((0.5, 3), (-1, 1))]),
    Spec(sp.iv, np.array([0, 1.5, -0.7]), U(0.3, 3), complex=[C((0.5, 3), (-1, 1))]),
    Spec(sp.kv, np.array([0, 1.5, -0.7]), U(0.3, 3), complex=[C((0.5, 3), (-1, 1))]),
    Spec(sp.jve, np.array([0, 1.5, -0.7]), U(0.5, 5)),
    Spec(sp.yve, np.array([0, 1.5, -0.7]), U(0.5, 5)),
    Spec(sp.ive, np.array([0, 1.5, -0.7]), U(0.3, 3)),
    Spec(sp.kve, np.array([0, 1.5, -0.7]), U(0.3, 3), complex=[C((0.5, 3), (-1, 1))]),
    Spec(sp.yn, I3, U(0.5, 5)),
    Spec(sp.kn, I3, U(0.3, 3)),
    Spec(sp.hankel1, np.array([0, 1.5, -0.7]), U(0.5, 3), complex=[C((0.5, 3), (-1, 1))]),
    Spec(sp.hankel2, np.array([0, 1.5, -0.7]), U(0.5, 3), complex=[C((0.5, 3), (-1, 1))]),
    Spec(sp.hankel1e, np.array([0, 1.5, -0.7]), U(0.5, 3), complex=[C((0.5, 3), (-1, 1))]),
    Spec(sp.hankel2e, np.array([0, 1.5, -0.7]), U(0.5, 3), complex=[C((0.5, 3), (-1, 1))]),
    Spec(sp.j0, U(-5, 5)), Spec(sp.j1, U(-5, 5)), Spec(sp.y0, U(0.5, 5)), Spec(sp.y1, U(0.5, 5)),
    Spec(sp.i0, U(-3, 3)), Spec(sp.i1, U(-3, 3)),
    Spec(sp.i0e, Domain(0.3, 3, away=True)), Spec(sp.i1e, Domain(0.3, 3, away=True)),
    Spec(sp.k0, U(0.3, 3)), Spec(sp.k1, U(0.3, 3)), Spec(sp.k0e, U(0.3, 3)),
    Spec(sp.k1e, U(0.3, 3)),
    Spec(sp.struve, np.array([0, 1.5, -0.5]), U(0.3, 4)),
    Spec(sp.modstruve, np.array([0, 1.5, -0.5]), U(0.3, 4)),
    Spec(sp.ber, U(0.3, 4)), Spec(sp.bei, U(0.3, 4)), Spec(sp.berp, U(0.3, 4)),
    Spec(sp.beip, U(0.3, 4)), Spec(sp.ker, U(0.3, 4)), Spec(sp.kei, U(0.3, 4)),
    Spec(sp.kerp, U(0.3, 4)), Spec(sp.keip, U(0.3, 4)), Spec(sp.kelvin, U(0.3, 4)),
    Spec(sp.airy, U(-3, 3), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.airye, U(0.3, 3)),
    Spec(sp.iti0k0, U(0.3, 3)), Spec(sp.itj0y0, U(0.3, 3)), Spec(sp.it2i0k0, U(0.3, 3)),
    Spec(sp.it2j0y0, U(0.3, 3)), Spec(sp.itstruve0, U(0.3, 3)),
    Spec(sp.itmodstruve0, U(0.3, 3)), Spec(sp.it2struve0, U(0.3, 3)),
    Spec(sp.itairy, U(0.3, 3)),
    Spec(sp.fresnel, U(-2, 2), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.sici, Domain(0.5, 3, away=True), complex=[C((0.5, 2), (-1, 1))]),
    Spec(sp.shichi, U(0.3, 3), complex=[C((0.5, 2), (-1, 1))]),
    Spec(sp.modfresnelp, U(0.3, 2)), Spec(sp.modfresnelm, U(0.3, 2)),
    Spec(sp.pbdv, np.array([0.5, 1.2, -0.6]), U(-2, 2)),
    Spec(sp.pbvv, np.array([0.5, 1.2, -0.6]), U(-2, 2)),
    Spec(sp.pbwa, np.array([-1.0, 0.5, 1.5]), U(-2, 2)),
    # SciPy's float32 Mathieu functions return NaN: float64 only
    *(Spec(fn, 2, 1.3, U(0, 90), float32=False) for fn in (sp.mathieu_cem, sp.mathieu_sem)),
    *(Spec(fn, 2, 1.3, U(0.2, 1.5), float32=False) for fn in (
        sp.mathieu_modcem1, sp.mathieu_modcem2, sp.mathieu_modsem1, sp.mathieu_modsem2)),
    # elliptic integrals
    Spec(sp.ellipk, U(-1, 0.9)), Spec(sp.ellipe, U(-1, 0.9)), Spec(sp.ellipkm1, U(0.05, 1.8)),
    Spec(sp.ellipkinc, U(-1.5, 1.5), U(-0.5, 0.9)),
    Spec(sp.ellipeinc, U(-1.5, 1.5), U(-0.5, 0.9)),
    Spec(sp.ellipj, U(-2, 2), U(0.05, 0.95)),
    Spec(sp.elliprf, U(0.5, 2), U(0.5, 2), U(0.5, 2), complex=[C((0.5, 2), (-0.5, 0.5))] * 3),
    Spec(sp.elliprg, U(0.5, 2), U(0.5, 2), U(0.5, 2), complex=[C((0.5, 2), (-0.5, 0.5))] * 3),
    Spec(sp.elliprc, U(0.5, 1), U(1.5, 2), complex=[C((0.5, 1), (-0.5, 0.5)),
                                                     C((1.5, 2), (-0.5, 0.5))]),
    Spec(sp.elliprd, U(0.2, 0.6), U(0.8, 1.2), U(1.5, 2)),
    Spec(sp.elliprj, U(0.2, 0.6), U(0.8, 1.2), U(1.5, 2), U(2.5, 3)),
    Spec(sp.agm, U(0.5, 3), U(0.5, 3)),
    # hypergeometric functions, orthogonal polynomials
    Spec(sp.hyp0f1, np.array([0.5, 1.5, 2.5]), U(-2, 2), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.hyp1f1, 0.7, np.array([0.5, 1.5, 2.5]), U(-2, 2), complex=[C((-1, 1), (-1, 1))]),
    Spec(sp.hyp2f1, 0.7, 1.3, np.array([0.5, 1.5, 2.5]), U(-0.9, 0.7),
         complex=[C((-0.5, 0.5), (-0.5, 0.5))]),
    Spec(sp.hyperu, 0.5, np.array([0.5, 1.2, 2.5]), U(0.5, 3)),
    Spec(sp.wright_bessel, 0.5, np.array([0.5, 1.2, 2.5]), U(0.1, 3)),
    Spec(sp.log_wright_bessel, 0.5, np.array([0.5, 1.2, 2.5]), U(0.1, 3)),
    Spec(sp.besselpoly, U(0.3, 2), 1.5, np.array([0, 1, 2.5])),
    Spec(sp.eval_jacobi, I3, 0.3, 0.6, U(-0.9, 0.9), complex=[C((-0.5, 0.5), (-0.5, 0.5))]),
    Spec(sp.eval_sh_jacobi, I3, 2.5, 1.5, U(0.1, 0.9)),
    Spec(sp.eval_gegenbauer, I3, 0.7, U(-0.9, 0.9)),
    Spec(sp.eval_legendre, I3, U(-0.9, 0.9), complex=[C((-0.5, 0.5), (-0.5, 0.5))]),
    Spec(sp.eval_sh_legendre, I3, U(0.1, 0.9)),
    Spec(sp.eval_chebyt, I3, U(-0.9, 0.9)), Spec(sp.eval_chebyu, I3, U(-0.9, 0.9)),
    Spec(sp.eval_chebyc, I3, U(-1.8, 1.8)), Spec(sp.eval_chebys, I3, U(-1.8, 1.8)),
    Spec(sp.eval_sh_chebyt, I3, U(0.1, 0.9)), Spec(sp.eval_sh_chebyu, I3, U(0.1, 0.9)),
    Spec(sp.eval_hermite, I3, U(-2, 2)), Spec(sp.eval_hermitenorm, I3, U(-2, 2)),
    Spec(sp.eval_laguerre, I3, U(0, 3)), Spec(sp.eval_genlaguerre, I3, 0.5, U(0, 3)),
    Spec(sp.lpmv, 1, np.array([1.5, 2, 3.3]), U(-0.9, 0.9)),
]

# Shapes of the differentiable arguments in float64: broadcast against each other (and against
# constants of shape (3,)); in float32 all (3,).
SHAPES_64 = [(2, 3), (3,), (1, 3), ()]


def arguments(spec, dtype, rng, shapes=None, complex_=False):
    domains = spec.complex if complex_ else [spec.args[i] for i in spec.slots]
    shapes = shapes or [(3,)] * len(domains)
    return [np.asarray(d.draw(rng, s)).astype(dtype) for d, s in zip(domains, shapes)]


def cases():
    for s in SPECS:
        yield pytest.param(s, "float64", id=f"{s.name}-float64")
        if s.float32:
            yield pytest.param(s, "float32", id=f"{s.name}-float32")
        if s.complex:
            yield pytest.param(s, "complex128", id=f"{s.name}-complex128")


@pytest.mark.parametrize("spec, dtype", list(cases()))
def test_against_finite_differences(spec, dtype):
    rng = rng_for(spec.name, dtype)
    shapes = SHAPES_64[:len(spec.slots)] if dtype == "float64" else None
    xs = arguments(spec, dtype, rng, shapes, complex_=dtype == "complex128")
    check_grads(lambda *xs: spec.call(xs), *xs, modes=BOTH)


def test_the_spec_table_holds_every_declared_ufunc():
    from wengert.registry import reverse_rules
    from wengert.rules.scipy_special import UNSUPPORTED

    declared = {f for f in vars(sp).values() if isinstance(f, np.ufunc)
                and f in reverse_rules.entries and f not in UNSUPPORTED}
    assert len(declared) > 180
    assert not sorted(f.__name__ for f in declared - {s.fn for s in SPECS})


UNARY = [s for s in SPECS if len(s.args) == 1]


@pytest.mark.parametrize("spec", UNARY, ids=lambda s: s.name)
def test_python_scalars(spec):
    x = float(spec.args[0].draw(rng_for(spec.name, "scalar"), ()))
    check_grads(spec.fn, x, modes=BOTH)


# ---------------------------------------------------------------------------------------------
# Second derivatives, all four nestings
# ---------------------------------------------------------------------------------------------

def check_second_order(f, *args, **tolerances):
    """Second derivatives in all four nestings: ⟨w, pullback of v⟩ (reverse inside) and
    ⟨w, JVP along d⟩ (forward inside), each checked in both modes against finite differences.
    (The first derivatives are test_against_finite_differences's.)"""
    rng = np.random.default_rng(7)

    def like(x):
        if isinstance(x, float):
            return float(rng.standard_normal())
        r = rng.standard_normal(np.shape(x)) + (1j * rng.standard_normal(np.shape(x))
                                                 if np.iscomplexobj(x) else 0)
        return np.asarray(r).astype(np.result_type(x))

    out = f(*args)
    v = tuple(like(np.real(o)) for o in out) if isinstance(out, tuple) else like(np.real(out))
    w, d = [like(a) for a in args], tuple(like(a) for a in args)

    def reverse_inside(*a):
        cotangents = wg.pullback(f, *a)[1](v)
        return sum(np.sum(np.real(np.conj(wi) * gi)) for wi, gi in zip(w, cotangents))

    def forward_inside(*a):
        return wg.jvp(f, a, d)[1]

    check_grads(reverse_inside, *args, modes=BOTH, **tolerances)
    check_grads(forward_inside, *args, modes=BOTH, **tolerances)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_second_derivatives(spec):
    rng = rng_for(spec.name, "second order")   # scalars: constants of shape (3,) broadcast
    xs = arguments(spec, "float64", rng, [(2,) if len(spec.args) == 1 else ()] * len(spec.slots))
    check_second_order(lambda *xs: spec.call(xs), *xs, atol=1e-4, rtol=1e-4)


def first(fn):
    """The first output of a function of several, whose others have a pole at the point."""
    return lambda *a: fn(*a)[0]


# Exact points: where a declaration switches to a series, a limit or a reflection, and the
# values 0, 1 where functions are commonly evaluated.
EXACT = [
    (sp.expit, 0.0), (sp.log_expit, 0.0), (sp.logit, 0.5), (sp.erf, 0.0), (sp.erfc, 0.0),
    (sp.erfcx, 0.0), (sp.erfinv, 0.0), (sp.dawsn, 0.0), (sp.ndtr, 0.0), (sp.log_ndtr, 0.0),
    (sp.ndtri, 0.5), (sp.gamma, 1.0), (sp.gamma, 2.0), (sp.gammaln, 1.0), (sp.gammaln, 2.0),
    (sp.digamma, 1.0), (sp.rgamma, 0.0), (sp.rgamma, -1.0), (sp.rgamma, -2.0), (sp.rgamma, 0.5),
    (sp.rgamma, 1.0), (sp.xlogy, 0.0, 2.0), (sp.xlog1py, 0.0, 1.0), (sp.entr, 1.0),
    (sp.kl_div, 1.0, 1.0), (sp.rel_entr, 1.0, 1.0), (sp.pseudo_huber, 1.0, 0.0),
    (sp.huber, 1.0, 0.0), (sp.log1p, 0.0), (sp.expm1, 0.0), (sp.exprel, 0.0),
    (sp.boxcox, 2.0, 0.0), (sp.boxcox1p, 0.5, 0.0), (sp.inv_boxcox, 0.5, 0.0),
    (sp.inv_boxcox1p, 0.5, 0.0), (sp.spence, 1.0), (sp.wrightomega, 0.0),
    (lambda z: sp.lambertw(z), 0.0), (sp.owens_t, 0.0, 1.0), (sp.j0, 0.0), (sp.j1, 0.0),
    (sp.i0, 0.0), (sp.i1, 0.0), (sp.ber, 0.0), (sp.bei, 0.0), (sp.berp, 0.0), (sp.beip, 0.0),
    (first(sp.sici), 0.0), (first(sp.shichi), 0.0), (first(sp.it2i0k0), 0.0),
    (first(sp.it2j0y0), 0.0), (sp.it2struve0, 0.0), (sp.fresnel, 0.0), (sp.airy, 0.0),
    (sp.ellipk, 0.0), (sp.ellipe, 0.0), (sp.ellipkm1, 1.0), (sp.ellipkinc, 0.7, 0.0),
    (sp.ellipeinc, 0.7, 0.0), (sp.ellipj, 0.5, 1e-3), (sp.agm, 1.5, 1.5), (sp.agm, 1.0, 1.0),
    (lambda x: sp.gammainc(1.0, x), 1.0), (lambda x: sp.betainc(1.0, 1.0, x), 0.5),
    (lambda x: sp.eval_legendre(3, x), 1.0), (lambda x: sp.eval_chebyu(3, x), -1.0),
    (lambda x: sp.tklmbda(x, 0.14), 0.0), (lambda x: sp.hyp2f1(0.5, 1.5, 2.0, x), 0.0),
]


def exact_id(case):
    fn, *point = case
    name = getattr(fn, "__name__", "f")
    return f"{name}{tuple(point)}" if name != "<lambda>" else f"case{EXACT.index(case)}"


@pytest.mark.parametrize("case", EXACT, ids=exact_id)
def test_second_derivatives_at_exact_points(case):
    fn, *point = case
    check_second_order(fn, *point, atol=1e-4, rtol=1e-4)


def test_ellipj_at_m_zero():
    """At m = 0 (SciPy's domain ends there, so no central difference): am(u|m) = u and
    ∂am/∂m = −(2u − sin 2u)/8, so ∂sn/∂m = cos u · ∂am/∂m."""
    u = 0.5
    d_am = -(2 * u - np.sin(2 * u)) / 8
    expected = (np.cos(u) * d_am, -np.sin(u) * d_am, -np.sin(u) ** 2 / 2, d_am)
    for k in range(4):
        f = lambda m: sp.ellipj(u, m)[k]   # noqa: E731
        assert wg.derivative(f, 0.0) == pytest.approx(expected[k], rel=1e-12, abs=1e-15)
        assert wg.gradient(f, 0.0)[0] == pytest.approx(expected[k], rel=1e-12, abs=1e-15)


# ---------------------------------------------------------------------------------------------
# Arguments without a derivative, complex arguments of real-only rules, poles
# ---------------------------------------------------------------------------------------------
FIXED = [
    ("jv", lambda v: sp.jv(v, 1.3), "v"),
    ("jv", lambda v: sp.jv(v, v + 1.0), "v"),   # both traced
    ("gammainc", lambda a: sp.gammainc(a, 1.3), "a"),
    ("betainc", lambda b: sp.betainc(0.5, b, 0.3), "b"),
    ("polygamma", lambda n: sp.polygamma(n, 1.3), "n"),
    ("zeta", lambda s: sp.zeta(s, 1.5), "x"),
    ("zeta", lambda s: sp.zeta(s), "x"),
    ("eval_legendre", lambda n: sp.eval_legendre(n, 0.3), "n"),
    ("hyp2f1", lambda c: sp.hyp2f1(0.5, 0.5, c, 0.3), "c"),
    ("mathieu_cem", lambda q: sp.mathieu_cem(2, q, 20.0)[0], "q"),
    ("pbdv", lambda v: sp.pbdv(v, 0.5)[0], "v"),
    ("expn", lambda n: sp.expn(n, 0.5), "n"),
    ("lambertw", lambda k: sp.lambertw(0.5, k), "k"),
]


@pytest.mark.parametrize("name, f, argument", FIXED, ids=[c[0] for c in FIXED])
def test_an_argument_without_derivative_is_refused_in_both_modes(name, f, argument):
    for mode in (lambda: wg.gradient(f, 2.0), lambda: wg.derivative(f, 2.0)):
        with pytest.raises(wg.DifferentiationError) as error:
            mode()
        message = str(error.value)
        assert f"scipy.special.{name} " in message and f"argument {argument} traced" in message
        assert f"wg.stop_gradient({argument})" in message


def test_an_outer_level_tracing_the_order_is_refused_too():
    inner = lambda v: wg.gradient(lambda x: sp.jv(v, x), 1.3)[0]   # noqa: E731
    with pytest.raises(wg.DifferentiationError, match="argument v traced"):
        wg.gradient(inner, 1.5)
    # the order as a constant of the outer level: the second derivative in x is fine
    check_second_order(lambda x: sp.jv(1.5, x), 1.3)


@pytest.mark.parametrize("f", [sp.digamma, lambda z: sp.jve(0.5, z), lambda z: sp.airye(z)[0]],
                         ids=["digamma", "jve", "airye"])
def test_real_only_rules_refuse_complex_arguments(f):
    z = np.array([1.0 + 0.5j, 2.0 - 0.2j])
    with pytest.raises(wg.DifferentiationError, match="real arguments only"):
        wg.gradient(lambda z: np.sum(np.abs(f(z))), z)
    with pytest.raises(wg.DifferentiationError, match="real arguments only"):
        wg.jvp(f, (z,), (np.ones(2, complex),))


def test_derivatives_at_poles_and_limits():
    # entr'(0) = +∞ is the true one-sided derivative; where the branch is not selected, 0
    assert wg.gradient(sp.entr, 0.0)[0] == np.inf
    (g,) = wg.gradient(lambda x: np.sum(np.where(x > 0, sp.entr(x), 0)), np.array([0.0, 0.5]))
    np.testing.assert_array_equal(g, [0.0, -np.log(0.5) - 1])
    # xlogy(0, y) = 0 for all y: ∂/∂y is 0 there, even at y = 0; ∂/∂x is log y
    assert wg.gradient(sp.xlogy, 0.0, 2.0) == (pytest.approx(np.log(2.0)), 0.0)
    assert wg.gradient(sp.xlogy, 0.0, 0.0) == (-np.inf, 0.0)
    assert wg.jvp(sp.xlogy, (0.0, 0.0), (0.0, 1.0))[1] == 0.0
    assert wg.gradient(sp.xlog1py, 0.0, -1.0)[1] == 0.0
    assert wg.gradient(sp.rel_entr, 0.0, 0.0)[1] == 0.0
    # logit has poles at 0 and 1: a masked pole leaks nothing
    (g,) = wg.gradient(lambda p: np.sum(np.where(p > 0, sp.logit(p), 0)), np.array([0.0, 0.5]))
    np.testing.assert_array_equal(g, [0.0, 4.0])
    # 1/Γ at its zeros: (1/Γ)'(−n) = (−1)^n n!
    for n in range(4):
        assert wg.gradient(sp.rgamma, -float(n))[0] == pytest.approx((-1) ** n * np.prod(
            np.arange(1, n + 1)), rel=1e-13)
        assert wg.derivative(sp.rgamma, -float(n)) == pytest.approx((-1) ** n * np.prod(
            np.arange(1, n + 1)), rel=1e-13)


def test_float32_stays_float32_in_forward_mode():
    x = np.linspace(0.5, 2.0, 4, dtype=np.float32)
    for f in (sp.erf, sp.gammaln, sp.expit, lambda x: sp.jv(1.5, x), lambda x: sp.airy(x)[1],
              lambda x: sp.betainc(0.5, 1.5, x / 3), lambda x: sp.ellipk(x / 3)):
        y, dy = wg.jvp(f, (x,), (np.ones(4, np.float32),))
        assert dy.dtype == np.float32 and np.shape(dy) == np.shape(y)


# ---------------------------------------------------------------------------------------------
# logsumexp, softmax, log_softmax
# ---------------------------------------------------------------------------------------------
A = np.random.default_rng(3).standard_normal((3, 4))
W = np.random.default_rng(4).uniform(0.5, 2.0, (3, 4))


@pytest.mark.parametrize("kwargs", [{}, {"axis": 0}, {"axis": 1}, {"axis": -1, "keepdims": True},
                                    {"axis": (0, 1)}, {"keepdims": True}],
                         ids=lambda k: ",".join(f"{a}={v}" for a, v in k.items()) or "default")
def test_logsumexp(kwargs):
    check_grads(lambda a: sp.logsumexp(a, **kwargs), A, modes=BOTH)
    check_grads(lambda a, b: sp.logsumexp(a, b=b, **kwargs), A, W, modes=BOTH)   # b by keyword
    check_grads(lambda a, b: sp.logsumexp(a, kwargs.get("axis"), b), A, W[0], modes=BOTH)
    value = wg.withgradient(lambda a: np.sum(sp.logsumexp(a, b=W, **kwargs)), A)[0]
    assert value == pytest.approx(np.sum(sp.logsumexp.__wrapped__(A, b=W, **kwargs)), rel=1e-14)


def test_logsumexp_second_derivatives_and_float32():
    check_second_order(lambda a, b: sp.logsumexp(a, axis=1, b=b), A, W, atol=1e-4, rtol=1e-4)
    check_second_order(lambda a: sp.logsumexp(a), A[0])
    a32 = A.astype(np.float32)
    (g,) = wg.gradient(lambda a: sp.logsumexp(a, axis=0)[1], a32)
    assert g.dtype == np.float32
    y, dy = wg.jvp(lambda a: sp.logsumexp(a, axis=0), (a32,), (np.ones_like(a32),))
    assert dy.dtype == np.float32 and dy.shape == y.shape == (4,)
    check_grads(lambda a: sp.logsumexp(a, axis=1), a32, modes=BOTH)


def test_logsumexp_return_sign_and_edge_values():
    b = np.array([1.0, -2.0, 0.5, 1.0])
    f = lambda a: sp.logsumexp(a, b=b, return_sign=True)   # noqa: E731
    out, sign = f(A[0])
    (value, traced_sign), _ = wg.pullback(f, A[0])
    assert (value, traced_sign) == pytest.approx((out, sign), rel=1e-14)
    check_grads(lambda a: f(a)[0], A[0], modes=BOTH)
    check_grads(lambda bb: sp.logsumexp(A[0], b=bb, return_sign=True)[0], b, modes=BOTH)
    # the values wengert computes agree with SciPy's at infinities and zero weights
    cases = [([-np.inf, -np.inf], None), ([1.0, np.inf], None), ([1.0, 2.0], [0.0, 0.0]),
             ([1.0, np.inf], [1.0, 0.0]), ([1.0, 2.0], [1.0, -1.0]), ([0.5, -np.inf], None)]
    for a, weights in cases:
        a = np.array(a)
        for kw in ({}, {"return_sign": True}):
            expected = sp.logsumexp.__wrapped__(a, b=weights, **kw)
            got = wg.pullback(lambda a: sp.logsumexp(a, b=weights, **kw), a)[0]
            np.testing.assert_allclose(got, expected, rtol=1e-14)
    (g,) = wg.gradient(lambda a: sp.logsumexp(a), np.array([0.0, -np.inf]))
    np.testing.assert_array_equal(g, [1.0, 0.0])


def test_logsumexp_complex():
    z = A[0] + 1j * A[1]
    assert wg.pullback(sp.logsumexp, z)[0] == pytest.approx(sp.logsumexp(z), rel=1e-14)
    check_grads(sp.logsumexp, z, modes=BOTH)


@pytest.mark.parametrize("fn", [sp.softmax, sp.log_softmax], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_softmax_and_log_softmax(fn, axis):
    check_grads(lambda x: fn(x, axis=axis), A, modes=BOTH)
    check_second_order(lambda x: fn(x, axis), A, atol=1e-4, rtol=1e-4)
    y, back = wg.pullback(lambda x: fn(x, axis=axis), A.astype(np.float32))
    assert y.dtype == back(np.ones_like(y))[0].dtype == np.float32
    np.testing.assert_array_equal(y, fn(A.astype(np.float32), axis=axis))


def test_softmax_of_a_list_and_a_scalar():
    x = [0.1, 0.7, -0.4]
    check_grads(lambda a, b, c: sp.softmax([a, b, c]), *x, modes=BOTH)
    check_grads(lambda a: sp.logsumexp(a), 0.3, modes=BOTH)


# ---------------------------------------------------------------------------------------------
# The other doors: polygamma, zeta, multigammaln
# ---------------------------------------------------------------------------------------------

def test_multigammaln():
    a = np.array([2.5, 3.0, 4.2])
    (g,) = wg.gradient(lambda a: np.sum(sp.multigammaln(a, 3)), a)
    np.testing.assert_allclose(g, sum(sp.digamma(a - j / 2) for j in range(3)), rtol=1e-13)
    check_second_order(lambda a: sp.multigammaln(a, 3), a)
    assert wg.pullback(lambda a: sp.multigammaln(a, 4), 3.0)[0] == pytest.approx(
        sp.multigammaln(3.0, 4), rel=1e-14)
    with pytest.raises(wg.DifferentiationError, match="argument d traced"):
        wg.gradient(lambda d: sp.multigammaln(3.0, d), 2.0)
    with pytest.raises(ValueError, match="condition a"):
        wg.gradient(lambda a: sp.multigammaln(a, 3), 0.9)


def test_values_through_the_doors_are_scipys():
    x = np.array([0.5, 1.5, 2.5])
    for f in (lambda x: sp.polygamma(2, x), lambda x: sp.zeta(2.5, x), lambda x: sp.lambertw(x),
              lambda x: sp.softmax(x), lambda x: sp.log_softmax(x)):
        np.testing.assert_array_equal(wg.pullback(f, x)[0], f(x))
    assert sp.zeta(2.0) == pytest.approx(np.pi ** 2 / 6)


def test_logsumexp_weight_zero_keeps_its_derivative():
    a = np.array([0.3, 1.2, -0.5])
    b = np.array([1.0, 0.0, 2.0])
    check_grads(lambda b: sp.logsumexp(a, b=b), b, modes=BOTH)
    (g,) = wg.gradient(lambda b: sp.logsumexp(a, b=b), b)
    assert g[1] == pytest.approx(np.exp(a[1] - sp.logsumexp(a, b=b)), rel=1e-14)


@pytest.mark.parametrize("name", ["erf", "log_ndtr", "jv", "kve", "airy", "hyp2f1", "xlogy",
                                  "elliprf", "spence", "lambertw"])
def test_complex_second_derivatives(name):
    spec = next(s for s in SPECS if s.name == name)
    xs = arguments(spec, "complex128", rng_for(name, "complex second order"), complex_=True)
    check_second_order(lambda *xs: spec.call(xs), *xs, atol=1e-4, rtol=1e-4)


def test_complex_gamma_has_no_second_derivative():
    """Γ'' needs the trigamma function, which SciPy has for real arguments only: the first
    derivative works, the second is a clear error, never a wrong number."""
    z = np.array([1.5 + 0.5j, 2.0 - 0.3j])
    check_grads(sp.gamma, z, modes=BOTH)
    with pytest.raises(wg.DifferentiationError, match="psi is differentiated for real"):
        wg.jvp(lambda z: wg.jvp(sp.loggamma, (z,), (np.ones(2, complex),))[1], (z,),
               (np.ones(2, complex),))


# Where an outer cotangent or tangent is exactly 0 (a traced zero: it still carries a
# derivative), a rule with poles must not clear it to a constant: (g(x) − g(x0))² has second
# derivative 2g'², g(x0 + (x − x0)²) has 2g', in every nesting, for every declaration with poles.
def exact_zero_cases():
    from wengert.registry import reverse_rules

    singular = {rule.fn for rules in reverse_rules.entries.values() for rule in rules
                if rule.elementwise and rule.elementwise[1]}
    for spec in SPECS:
        if spec.fn in singular:
            for k in range(len(spec.slots)):
                yield pytest.param(spec, k, id=f"{spec.name}-{k}")


@pytest.mark.parametrize("spec, k", list(exact_zero_cases()))
def test_second_derivatives_through_a_traced_zero(spec, k):
    point = [float(v) for v in arguments(spec, "float64", rng_for(spec.name, "traced zero"),
                                          [()] * len(spec.slots))]

    def g(t):
        args = list(point)
        args[k] = t
        return np.sum(np.real(spec.call(args)))

    x0 = point[k]
    dg = wg.derivative(g, x0)
    first = {"rev": lambda f, x: wg.gradient(f, x)[0], "fwd": wg.derivative}
    for f, expected in (((lambda x: (g(x) - g(x0)) ** 2), 2 * dg * dg),
                        ((lambda x: g(x0 + (x - x0) ** 2)), 2 * dg)):
        for outer in first.values():
            for inner in first.values():
                got = outer(lambda z: inner(f, z), x0)
                assert got == pytest.approx(expected, rel=1e-7, abs=1e-9)
