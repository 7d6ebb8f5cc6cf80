"""Fit a Gaussian process to summer temperatures at weather stations.

The hyperparameters live in a nested tree of log-values,

    theta = {"kernel": {"signal": log σ_f, "lengthscales": log ℓ (east, north, elevation)},
             "noise": log σ_n, "mean": m}

and the covariance of the stations' temperatures is

    K = σ_f² exp(-½ Σ_d (x_d - x'_d)² / ℓ_d²) + σ_n² I.

The negative log marginal likelihood nll(K, y) is a ``wg.primitive`` with a hand-written
reverse rule: its pullback maps the scalar cotangent straight to the matrix
dK = ½ (K⁻¹ - ααᵀ) and to dy = α (α = K⁻¹ y), one O(N³) inverse instead of
differentiating a Cholesky factorization and triangular solves step by step. wengert
differentiates everything else, the whole parameter tree included.

The hyperparameters are fitted twice with scipy.optimize.minimize(jac=True): once with the
tree passed explicitly, ``wg.gradient(lambda t: nll_of_theta(t, data), theta)``, and once
with implicit parameters, ``wg.gradient(gp.negative_log_likelihood, wg.Params(gp.theta))``.
Then the rule is checked against AD through the implementation (the same nll written with
np.linalg.cholesky and np.linalg.solve, differentiated by wengert's own rules) and against
finite differences, and the time per gradient is measured with and without the rule.

    python3 examples/gaussian_process.py          (needs SciPy: pip install -e ".[test]")
"""
import os
import time

# One BLAS thread (unless you say otherwise): at these sizes threads gain little, and on a
# busy machine they lose a lot. Set before NumPy loads its BLAS.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.optimize  # noqa: E402

import wengert as wg  # noqa: E402

LOG_2PI = np.log(2 * np.pi)
JITTER = 1e-8          # added to the noise variance, so that K stays positive definite


# ---------------------------------------------------------------------------------------------
# Data: July mean temperatures (°C) at weather stations in a hilly 300 km × 300 km region
# ---------------------------------------------------------------------------------------------

def terrain(east, north):
    """Elevation in km: two ranges of hills and a plateau."""
    hills = 1.6 * np.exp(-((east - 210) ** 2 / 900 + (north - 90) ** 2 / 2500))
    ridge = 1.1 * np.exp(-((east + 0.6 * north - 170) ** 2) / 600)
    plateau = 0.45 / (1 + np.exp(-(north - 220) / 15))
    return 0.15 + hills + ridge + plateau


def weather_stations(n, seed=0):
    """``(x, y)``: station coordinates (east km, north km, elevation km) and the measured
    temperature: warmer in the south and the valleys (6.5 °C colder per km of altitude), a
    regional pattern of sea breeze and continental air, and 0.5 °C of measurement noise."""
    rng = np.random.default_rng(seed)
    east, north = rng.uniform(0, 300, size=(2, n))
    elevation = terrain(east, north) + 0.05 * rng.standard_normal(n)
    climate = (27.0 - 0.012 * north - 6.5 * elevation
               + 1.3 * np.sin(east / 45) * np.cos(north / 70))
    return np.stack([east, north, elevation], axis=1), climate + 0.5 * rng.standard_normal(n)


def pairwise_squares(x):
    """(x_id - x_jd)² per input dimension d, flattened to (D, N·N): the kernel's distances
    are one product with 1/ℓ² away."""
    differences = x.T[:, :, None] - x.T[:, None, :]
    return (differences ** 2).reshape(x.shape[1], -1)


# ---------------------------------------------------------------------------------------------
# The likelihood: one step for AD, with its own reverse rule
# ---------------------------------------------------------------------------------------------

def nll_by_linalg(K, y):
    """-log N(y | 0, K) in plain NumPy: the implementation AD differentiates without the rule."""
    L = np.linalg.cholesky(K)
    z = np.linalg.solve(L, y)
    return 0.5 * (z @ z) + np.sum(np.log(np.diagonal(L))) + 0.5 * len(y) * LOG_2PI


@wg.primitive
def nll(K, y):
    """-log N(y | 0, K). Reverse mode uses the rule below; forward mode (no frule) goes
    through the body."""
    return nll_by_linalg(K, y)


@wg.rrule(nll)
def nll_rrule(K, y):
    L = scipy.linalg.cholesky(K, lower=True)
    alpha = scipy.linalg.cho_solve((L, True), y)                    # K⁻¹ y
    value = 0.5 * (y @ alpha) + np.sum(np.log(np.diagonal(L))) + 0.5 * len(y) * LOG_2PI

    def nll_pullback(dvalue):
        # d nll = ½ tr((K⁻¹ - ααᵀ) dK) + αᵀ dy: the cotangent of K is that symmetric matrix.
        dK = (0.5 * dvalue) * (inverse_from_cholesky(L) - np.outer(alpha, alpha))
        return dK, dvalue * alpha

    return value, nll_pullback


def inverse_from_cholesky(L):
    """K⁻¹ from K = LLᵀ with LAPACK's potri (about N³ flops, a third of a general inverse)."""
    lower, info = scipy.linalg.lapack.dpotri(L, lower=1)     # writes the lower triangle only
    if info != 0:
        raise np.linalg.LinAlgError(f"potri failed (info={info})")
    return np.tril(lower) + np.tril(lower, -1).T


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------

def covariance(theta, data):
    """K for hyperparameters ``theta`` (a tree of log-values) at the stations of ``data``."""
    kernel = theta["kernel"]
    n = data["y"].shape[0]
    inverse_squares = np.exp(-2 * kernel["lengthscales"])                      # 1/ℓ²
    scaled_distances = (inverse_squares @ data["squares"]).reshape(n, n)       # Σ_d Δ²_d/ℓ²_d
    signal = np.exp(2 * kernel["signal"] - 0.5 * scaled_distances)
    return signal + (np.exp(2 * theta["noise"]) + JITTER) * data["eye"]


def nll_of_theta(theta, data, likelihood=nll):
    """The objective: -log p(y | theta), with the constant mean subtracted first."""
    return likelihood(covariance(theta, data), data["y"] - theta["mean"])


class GaussianProcess:
    """A GP that owns its hyperparameters, as a model object does: for implicit parameters."""

    def __init__(self, theta, data):
        self.theta = theta
        self.data = data

    def negative_log_likelihood(self):
        return nll_of_theta(self.theta, self.data)

    def predict(self, x_new, x):
        """The posterior mean at ``x_new``."""
        theta, data = self.theta, self.data
        residual = data["y"] - theta["mean"]
        alpha = scipy.linalg.cho_solve(scipy.linalg.cho_factor(covariance(theta, data)),
                                       residual)
        lengthscales = np.exp(theta["kernel"]["lengthscales"])
        d2 = np.sum(((x_new[:, None, :] - x[None, :, :]) / lengthscales) ** 2, axis=-1)
        return theta["mean"] + np.exp(2 * theta["kernel"]["signal"] - 0.5 * d2) @ alpha


def make_data(x, y):
    return {"squares": pairwise_squares(x), "y": y, "eye": np.eye(len(y))}


def initial_theta(y):
    return {
        "kernel": {"signal": np.array(np.log(np.std(y))),
                   "lengthscales": np.log(np.array([50.0, 50.0, 1.0]))},
        "noise": np.array(np.log(0.3 * np.std(y))),
        "mean": np.array(np.mean(y)),
    }


# ---------------------------------------------------------------------------------------------
# A tree of arrays as the flat vector SciPy wants, and back
# ---------------------------------------------------------------------------------------------

def leaves(tree):
    """The arrays of a tree of dicts, in the order wg.Params(tree) lists them."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in leaves(value)]
    return [tree]


def to_vector(tree):
    return np.concatenate([np.ravel(leaf) for leaf in leaves(tree)])


def from_vector(template, vector):
    """A new tree shaped like ``template`` holding the numbers of ``vector``."""
    if isinstance(template, dict):
        out, start = {}, 0
        for key, value in template.items():
            size = sum(np.size(leaf) for leaf in leaves(value))
            out[key] = from_vector(value, vector[start:start + size])
            start += size
        return out
    return vector.reshape(np.shape(template)).copy()


# ---------------------------------------------------------------------------------------------
# Two fits: explicit and implicit parameters
# ---------------------------------------------------------------------------------------------

def fit_explicit(theta0, data):
    """theta is an argument: the gradient comes back as a tree shaped like it."""
    def objective(vector):
        theta = from_vector(theta0, vector)
        value, (grad_theta,) = wg.withgradient(lambda t: nll_of_theta(t, data), theta)
        return value, to_vector(grad_theta)

    result = scipy.optimize.minimize(objective, to_vector(theta0), jac=True, method="L-BFGS-B")
    return from_vector(theta0, result.x), result


def fit_implicit(gp):
    """The model's own arrays are the parameters: SciPy's vector is written into them in
    place, and the gradient comes back as wg.Grads keyed by those arrays."""
    ps = wg.Params(gp.theta)

    def objective(vector):
        start = 0
        for p in ps:
            p[...] = vector[start:start + p.size].reshape(p.shape)
            start += p.size
        value, grads = wg.withgradient(gp.negative_log_likelihood, ps)
        return value, np.concatenate([np.ravel(g) for _, g in grads])

    x0 = np.concatenate([np.ravel(p) for p in ps])
    result = scipy.optimize.minimize(objective, x0, jac=True, method="L-BFGS-B")
    objective(result.x)      # leave the model at the optimum
    return result


# ---------------------------------------------------------------------------------------------
# Checks and timings
# ---------------------------------------------------------------------------------------------

def relative_difference(a, b):
    a, b = to_vector(a), to_vector(b)
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def seconds_per_call(fn, repeats=3):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def describe(theta):
    kernel = theta["kernel"]
    east, north, height = np.exp(kernel["lengthscales"])
    return (f"  signal σ_f = {np.exp(kernel['signal']):.2f} °C, noise σ_n = "
            f"{np.exp(theta['noise']):.2f} °C, mean {theta['mean']:.1f} °C\n"
            f"  lengthscales: east {east:.0f} km, north {north:.0f} km, "
            f"elevation {height * 1000:.0f} m")


def main():
    x, y = weather_stations(300, seed=0)
    data = make_data(x, y)
    theta0 = initial_theta(y)
    print(f"{len(y)} weather stations; July temperatures {y.min():.1f} to {y.max():.1f} °C\n")

    start = time.perf_counter()
    theta_explicit, result = fit_explicit(theta0, data)
    print(f"explicit fit:  -log p(y|θ) = {result.fun:.3f} after {result.nit} iterations "
          f"({time.perf_counter() - start:.1f} s)")

    gp = GaussianProcess(from_vector(theta0, to_vector(theta0)), data)
    start = time.perf_counter()
    result_implicit = fit_implicit(gp)
    print(f"implicit fit:  -log p(y|θ) = {result_implicit.fun:.3f} after "
          f"{result_implicit.nit} iterations ({time.perf_counter() - start:.1f} s)")
    difference = relative_difference(gp.theta, theta_explicit)
    if difference > 1e-6 or abs(result.fun - result_implicit.fun) > 1e-8:
        raise SystemExit(f"the explicit and implicit fits differ ({difference:.1e})")
    print(f"the two fits agree (largest relative difference {difference:.1e})\n")
    print("fitted hyperparameters:")
    print(describe(theta_explicit))

    x_test, y_test = weather_stations(200, seed=1)
    rmse = np.sqrt(np.mean((gp.predict(x_test, x) - y_test) ** 2))
    print(f"held-out stations: RMSE {rmse:.2f} °C (measurement noise 0.50 °C)\n")

    # The rule against AD through np.linalg.cholesky and np.linalg.solve, and against
    # central finite differences of the likelihood in random directions.
    with_rule = wg.gradient(lambda t: nll_of_theta(t, data), theta_explicit)[0]
    through = wg.gradient(lambda t: nll_of_theta(t, data, nll_by_linalg), theta_explicit)[0]
    print(f"gradient check: rule vs AD through cholesky/solve, relative difference "
          f"{relative_difference(with_rule, through):.1e}")
    K = covariance(theta_explicit, data)
    wg.testing.check_grads(lambda A, r: nll((A + A.T) / 2, r), K, y - theta_explicit["mean"],
                           modes=("reverse",))
    print("gradient check: rule vs finite differences: ok\n")

    print("time per gradient of -log p(y|θ):")
    for n in (300, 1000):
        xs, ys = weather_stations(n, seed=2)
        data_n = make_data(xs, ys)
        rule = seconds_per_call(lambda: wg.gradient(lambda t: nll_of_theta(t, data_n),
                                                    theta_explicit))
        linalg = seconds_per_call(lambda: wg.gradient(
            lambda t: nll_of_theta(t, data_n, nll_by_linalg), theta_explicit))
        print(f"  N = {n:4d}: with the rule {rule * 1e3:7.1f} ms,  through cholesky/solve "
              f"{linalg * 1e3:7.1f} ms  ({linalg / rule:.1f}x)")


if __name__ == "__main__":
    main()
