"""Every ufunc of scipy.special is accounted for: it has wengert's rules in both modes, is
marked non-differentiable, or is listed as unsupported with a reason that its error repeats."""
import numpy as np
import pytest

pytest.importorskip("scipy")
import scipy.special as sp  # noqa: E402

import wengert as wg  # noqa: E402
from wengert.registry import _non_differentiable, forward_rules, reverse_rules  # noqa: E402
from wengert.rules import scipy_special  # noqa: E402

UFUNCS = {v for v in vars(sp).values() if isinstance(v, np.ufunc)}
UNSUPPORTED = scipy_special.UNSUPPORTED


def has_library_rules(fn):
    def library(table):
        return any(getattr(r.impl, "__module__", "").startswith("wengert.")
                   for r in table.entries.get(fn, ()))
    return library(reverse_rules) and library(forward_rules)


def test_the_census_sees_scipy_special():
    # a census of nothing passes: scipy.special has some 230 ufuncs, erf among them
    assert len(UFUNCS) > 200 and sp.erf in UFUNCS and has_library_rules(sp.erf)
    assert not has_library_rules(np.frompyfunc(lambda x: x, 1, 1))   # a ufunc of no one's


def test_every_ufunc_is_ruled_non_differentiable_or_unsupported():
    missing = sorted(f.__name__ for f in UFUNCS if not has_library_rules(f)
                     and f not in _non_differentiable and f not in UNSUPPORTED)
    assert not missing, f"scipy.special ufuncs with no rule and no reason: {missing}"


def test_the_tables_do_not_overlap():
    assert not set(scipy_special.NON_DIFFERENTIABLE) & set(UNSUPPORTED)
    assert all(f in _non_differentiable for f in scipy_special.NON_DIFFERENTIABLE)
    for fn, why in UNSUPPORTED.items():
        assert isinstance(fn, np.ufunc) and len(why) > 20


@pytest.mark.parametrize("fn", sorted(UNSUPPORTED, key=lambda f: f.__name__),
                         ids=lambda f: f.__name__)
def test_unsupported_ufuncs_say_why_in_both_modes(fn):
    args = [0.5] * fn.nin

    def f(x):
        out = fn(x, *args[1:])
        return out[0] if isinstance(out, tuple) else out

    for mode in (lambda g: wg.gradient(g, 0.5), lambda g: wg.derivative(g, 0.5)):
        with pytest.raises(wg.DifferentiationError) as error:
            mode(f)
        message = str(error.value)
        assert f"scipy.special.{fn.__name__}" in message
        assert UNSUPPORTED[fn] in message and "wg.stop_gradient" in message


def test_unsupported_ufuncs_still_compute_without_tracers():
    assert sp.zetac(2.0) == pytest.approx(np.pi ** 2 / 6 - 1)


@pytest.mark.parametrize("fn", scipy_special.NON_DIFFERENTIABLE, ids=lambda f: f.__name__)
def test_integer_valued_ufuncs_carry_no_tangent(fn):
    x = np.array([0.3, 1.7, -2.2])
    (g,) = wg.gradient(lambda x: np.sum(fn(x) + x), x)
    np.testing.assert_array_equal(g, np.ones(3))
    y, dy = wg.jvp(lambda x: fn(x) + x, (x,), (np.ones(3),))
    np.testing.assert_array_equal(dy, np.ones(3))
    np.testing.assert_array_equal(y, fn(x) + x)
