"""Rules of the cumulative functions (rules/cumulative.py) in both modes, checked against
finite differences: one spec table over shapes, axes and dtypes, second derivatives in every
nesting, and exact derivatives of cumprod at zeros (no division by x)."""
import numpy as np
import pytest

import wengert as wg
from wengert.testing import check_grads

DTYPES = (np.float32, np.float64, np.complex128)


def random_array(shape, dtype, rng):
    """Values away from 0 in magnitude, so that running products stay tame."""
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.uniform(-1, 1, shape)
    return x.astype(dtype)


def pushforward_along(f, u):
    """``x ↦ J_f(x) u``: differentiating it runs a forward level inside the outer one."""
    return lambda x: wg.jvp(f, (x,), (u,))[1]


CUMULATIVE = {"cumsum": np.cumsum, "cumprod": np.cumprod}
if hasattr(np, "cumulative_sum"):  # NumPy >= 2.1
    CUMULATIVE.update({
        "cumulative_sum": np.cumulative_sum,
        "cumulative_prod": np.cumulative_prod,
        "cumulative_sum_initial": lambda x, axis: np.cumulative_sum(
            x, axis=axis, include_initial=True),
        "cumulative_prod_initial": lambda x, axis: np.cumulative_prod(
            x, axis=axis, include_initial=True),
    })
SCAN_AXES = [((6,), None), ((6,), 0), ((3, 4), None), ((3, 4), 0), ((3, 4), -1),
             ((2, 3, 5), 1), ((2, 3, 5), -3), ((), None)]


def _cases():
    for name in CUMULATIVE:
        for shape, axis in SCAN_AXES:
            if name.startswith("cumulative") and (axis is None) != (len(shape) == 1):
                continue  # the array-API spellings need an axis exactly when ndim > 1
            yield pytest.param(name, shape, axis, id=f"{name}-{shape}-{axis}")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name, shape, axis", list(_cases()))
def test_cumulative_derivatives(name, shape, axis, dtype, rng):
    x = random_array(shape, dtype, rng)
    check_grads(lambda x: CUMULATIVE[name](x, axis=axis), x)


@pytest.mark.parametrize("name", list(CUMULATIVE))
def test_cumulative_second_order(name, rng):
    x = random_array((3, 5), np.float64, rng)
    f = lambda x: np.sin(CUMULATIVE[name](x, axis=1))
    check_grads(f, x, order=2)
    check_grads(pushforward_along(f, rng.standard_normal((3, 5))), x)


def test_cumprod_second_order_complex(rng):
    z = random_array((2, 4), np.complex128, rng)
    check_grads(lambda z: np.cumprod(z, axis=1), z, order=2)
    check_grads(pushforward_along(lambda z: np.cumprod(z) ** 2, random_array((2, 4),
                                                                          np.complex128, rng)), z)


# --- cumprod with zeros: no division by x -------------------------------------------------------


def test_cumprod_with_zeros(rng):
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    (g,) = wg.gradient(lambda x: np.sum(np.cumprod(x)), x)
    # d/dx0 = 1 + x1 + ..., d/dx1 = x0 (1 + x2 + x2 x3 + ...) and the rest vanish.
    np.testing.assert_array_equal(g, [1.0, 8.0, 0.0, 0.0, 0.0])
    y = random_array((3, 6), np.float64, rng)
    y[0, 2] = y[1, 0] = y[1, 4] = 0.0
    check_grads(lambda y: np.cumprod(y, axis=1), y, order=2)
    check_grads(pushforward_along(np.cumprod, rng.standard_normal((3, 6))), y)


def test_cumprod_tangent_at_zeros_is_exact():
    # dy_m = Σ_j ∏_{k≤m, k≠j} x_k: [1, x0 + x1, x1 x2 + x0 x2 + x0 x1, 0, 0] (two zeros).
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    _, dy = wg.jvp(np.cumprod, (x,), (np.ones(5),))
    np.testing.assert_array_equal(dy, [1.0, 2.0, 6.0, 0.0, 0.0])


@pytest.mark.skipif(not hasattr(np, "cumulative_prod"), reason="NumPy < 2.1")
def test_the_initial_product_is_a_constant():
    _, dy = wg.jvp(lambda x: np.cumulative_prod(x, include_initial=True),
                   (np.array([2.0, 3.0]),), (np.array([1.0, 1.0]),))
    np.testing.assert_array_equal(dy, [0.0, 1.0, 5.0])


def test_cumulative_method_and_ufunc_accumulate(rng):
    x = random_array((3, 4), np.float64, rng)
    check_grads(lambda x: x.cumsum(0) * x.cumprod(axis=1), x)
    check_grads(lambda x: np.add.accumulate(x, axis=1) + np.multiply.accumulate(x), x)
