"""gp_rule: the likelihood of examples/gaussian_process.py, gradient w.r.t. its hyperparameters.

    K = exp(2s - ½ Σ_d Δ²_d e^{-2 l_d}) + (e^{2 n} + jitter) I,      r = y - m
    nll = ½ rᵀK⁻¹r + ½ log det K + (N/2) log 2π

with θ = (s, l ∈ R³, n, m): log signal, log lengthscales (east, north, elevation), log
noise, mean. Three ways to differentiate it with wengert, side by side:

- ``wengert + nll rule``: the example's code, where nll(K, y) is a wg.primitive whose
  hand-written rule maps the cotangent to dK = ½(K⁻¹ - ααᵀ), dy = α (K⁻¹ by LAPACK's potri);
  θ is a nested dict passed explicitly.
- ``wengert + nll rule, Params``: the same with implicit parameters, ``wg.Params(θ)``.
- ``wengert (through cholesky/solve)``: the likelihood written with np.linalg.cholesky and
  np.linalg.solve, differentiated by wengert's own rules; the peers differentiate that same
  code.

The hand-written baseline is the analytic gradient ½ tr((K⁻¹ - ααᵀ) ∂K/∂θ) with the same
LAPACK calls as the rule (cholesky, cho_solve, potri), so the rule rows measure what AD adds
around a rule, and the other rows what the generic matrix rules cost.
"""
import numpy as np

from ..harness import Case, Contender, NotInstalled, Prepared, as_float64_tuple
from ..peers import baseline, standard

NAME = "gp_rule"
TITLE = ("gp_rule: the GP example (nested θ, custom nll rule) vs AD through cholesky/solve, "
         "gradient w.r.t. θ")
UNIT = None
LOG_2PI = float(np.log(2 * np.pi))
JITTER = 1e-8


def loss(xp, data, signal, lengthscales, noise, mean):
    n = data["y"].shape[0]
    scaled_distances = (xp.exp(-2 * lengthscales) @ data["squares"]).reshape(n, n)
    k = (xp.exp(2 * signal - 0.5 * scaled_distances)
         + (xp.exp(2 * noise) + JITTER) * data["eye"])
    chol = xp.linalg.cholesky(k)
    z = xp.linalg.solve(chol, data["y"] - mean)
    # diag(L) spelled with axes (-1, -2): the only spelling autograd differentiates.
    half_log_det = xp.sum(xp.log(xp.diagonal(chol, 0, -1, -2)))
    return 0.5 * (z @ z) + half_log_det + 0.5 * n * LOG_2PI


# --- the hand-written gradient -------------------------------------------------------------------

def gradient_by_hand(data, signal, lengthscales, noise, mean):
    squares, y, eye = data["squares"], data["y"], data["eye"]
    n = y.shape[0]
    inverse_squares = np.exp(-2 * lengthscales)
    signal_part = np.exp(2 * signal - 0.5 * (inverse_squares @ squares).reshape(n, n))
    noise_variance = np.exp(2 * noise)
    k = signal_part + (noise_variance + JITTER) * eye
    chol, alpha, k_inverse = _factor_solve_invert(k, y - mean)
    # The value, as the AD systems compute it.
    0.5 * ((y - mean) @ alpha) + np.sum(np.log(np.diagonal(chol))) + 0.5 * n * LOG_2PI
    w = k_inverse - np.outer(alpha, alpha)          # d nll = ½ tr(W dK)
    w_signal = w * signal_part
    d_signal = np.sum(w_signal)                                         # ∂K/∂s = 2 S
    d_lengthscales = 0.5 * inverse_squares * (squares @ w_signal.ravel())  # S ⊙ Δ²_d e^{-2l_d}
    d_noise = noise_variance * np.trace(w)                              # ∂K/∂n = 2e^{2n} I
    d_mean = -np.sum(alpha)
    return (np.asarray(d_signal), d_lengthscales, np.asarray(d_noise), np.asarray(d_mean))


def _factor_solve_invert(k, r):
    """L, K⁻¹r and K⁻¹ with LAPACK (potrf, potrs, potri) where SciPy is installed, as the
    example's rule does; with NumPy alone, a general inverse."""
    try:
        from scipy.linalg import cho_solve, cholesky, lapack
    except ImportError:
        k_inverse = np.linalg.inv(k)
        return np.linalg.cholesky(k), k_inverse @ r, k_inverse
    chol = cholesky(k, lower=True)
    lower, info = lapack.dpotri(chol, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed (info={info})")
    return chol, cho_solve((chol, True), r), np.tril(lower) + np.tril(lower, -1).T


# --- wengert with the example's rule ------------------------------------------------------------

def _example():
    try:
        import scipy.linalg  # noqa: F401
    except ImportError:
        raise NotInstalled("scipy (the example's rule uses it)") from None
    from examples import gaussian_process

    return gaussian_process


def _theta(params):
    signal, lengthscales, noise, mean = params
    return {"kernel": {"signal": signal, "lengthscales": lengthscales},
            "noise": noise, "mean": mean}


def _flat(theta):
    return as_float64_tuple((theta["kernel"]["signal"], theta["kernel"]["lengthscales"],
                             theta["noise"], theta["mean"]))


def _with_rule(case):
    import wengert as wg

    example = _example()
    data, theta = case.data, _theta(case.params)
    return Prepared(lambda: wg.gradient(lambda t: example.nll_of_theta(t, data), theta)[0],
                    _flat)


def _with_rule_params(case):
    import wengert as wg

    example = _example()
    theta = _theta(case.params)
    gp = example.GaussianProcess(theta, case.data)
    ps = wg.Params(theta)

    def to_numpy(grads):
        return as_float64_tuple([grads[p] for p in case.params])

    return Prepared(lambda: wg.gradient(gp.negative_log_likelihood, ps), to_numpy)


# --- cases ----------------------------------------------------------------------------------------

def make_case(n, seed=0):
    """n stations of the example's data set, hyperparameters near its fit."""
    x, y = _stations(n, seed)
    differences = x.T[:, :, None] - x.T[:, None, :]
    data = {"squares": (differences ** 2).reshape(x.shape[1], -1), "y": y, "eye": np.eye(n)}
    params = (np.array(np.log(8.0)), np.log(np.array([145.0, 210.0, 2.9])),
              np.array(np.log(0.5)), np.array(21.0))
    return Case(f"N = {n}", data, params)


def _stations(n, seed):
    # The example's generator, repeated here so that the cases exist without SciPy.
    rng = np.random.default_rng(seed)
    east, north = rng.uniform(0, 300, size=(2, n))
    hills = 1.6 * np.exp(-((east - 210) ** 2 / 900 + (north - 90) ** 2 / 2500))
    ridge = 1.1 * np.exp(-((east + 0.6 * north - 170) ** 2) / 600)
    plateau = 0.45 / (1 + np.exp(-(north - 220) / 15))
    elevation = 0.15 + hills + ridge + plateau + 0.05 * rng.standard_normal(n)
    climate = (27.0 - 0.012 * north - 6.5 * elevation
               + 1.3 * np.sin(east / 45) * np.cos(north / 70))
    return (np.stack([east, north, elevation], axis=1),
            climate + 0.5 * rng.standard_normal(n))


def cases(quick):
    return [make_case(n) for n in ((100, 200) if quick else (1000, 2000))]


def contenders(options):
    rule = [Contender("wengert + nll rule", _with_rule),
            Contender("wengert + nll rule, Params", _with_rule_params)]
    others = standard(loss)
    others[0] = Contender("wengert (through cholesky/solve)", others[0].build)
    return [baseline(gradient_by_hand), *rule, *others]
