"""How wengert reaches SciPy: doors on the public module attributes, installed whenever the
program imports a SciPy module (before or after wengert), invisible outside a
transformation, and errors that name the SciPy function where a call cannot be reached."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

scipy = pytest.importorskip("scipy")
import scipy.linalg  # noqa: E402
import scipy.special  # noqa: E402

import wengert as wg  # noqa: E402
from wengert.registry import reached  # noqa: E402


def run_python(code):
    """Run ``code`` in a fresh interpreter (import order matters here); its stdout."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


GRADIENT_THROUGH_SCIPY = """
    import numpy as np
    a = np.array([[2.0, 0.0], [1.0, 3.0]])
    g = wg.gradient(lambda b: np.sum(sla.solve_triangular(a, b, lower=True)), np.ones(2))[0]
    print(np.allclose(g, np.linalg.solve(a.T, np.ones(2))))
"""


@pytest.mark.parametrize("imports", [
    "import wengert as wg\nimport scipy.linalg as sla",
    "import scipy.linalg as sla\nimport wengert as wg",
    "import scipy.stats\nimport wengert as wg\nimport scipy.linalg as sla",   # loaded indirectly
], ids=["wengert first", "scipy first", "scipy loaded by another module"])
def test_scipy_is_reached_whichever_is_imported_first(imports):
    assert run_python(imports + textwrap.dedent(GRADIENT_THROUGH_SCIPY)).strip() == "True"


def test_importing_wengert_imports_no_scipy():
    out = run_python("""
        import sys, wengert
        print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))
    """)
    assert out.strip() == "[]"


def test_a_name_bound_before_wengert_is_named_with_the_way_out():
    out = run_python("""
        from scipy.linalg import solve_triangular
        import numpy as np, wengert as wg
        try:
            wg.gradient(lambda b: np.sum(solve_triangular(np.eye(2), b)), np.ones(2))
        except wg.DifferentiationError as e:
            print(e)
    """)
    assert "scipy.linalg.solve_triangular" in out
    assert "before wengert was imported" in out and "Import wengert before" in out


def test_a_scipy_function_without_a_rule_is_named():
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    with pytest.raises(wg.DifferentiationError, match=r"scipy\.linalg\.qz has no derivative rule"):
        wg.gradient(lambda x: np.sum(scipy.linalg.qz(x, a)[0]), a)


def test_doors_are_the_public_attributes_and_keep_the_original_callable():
    door = scipy.linalg.solve_triangular
    assert door.__wrapped__ in reached
    assert reached[door.__wrapped__] == "scipy.linalg.solve_triangular"
    assert door.__name__ == "solve_triangular" and door.__doc__ == door.__wrapped__.__doc__


@pytest.mark.parametrize("module, name, args", [
    ("linalg", "solve_triangular", lambda rng: (np.triu(rng.random((4, 4))) + 4 * np.eye(4),
                                                rng.random((4, 2)))),
    ("linalg", "cholesky", lambda rng: (np.eye(3) * 3 + 0.1,)),
    ("special", "logsumexp", lambda rng: (rng.standard_normal(7),)),
])
def test_outside_a_transformation_results_are_bit_identical(module, name, args):
    door = getattr(getattr(scipy, module), name)
    original = door.__wrapped__
    values = args(np.random.default_rng(0))
    np.testing.assert_array_equal(door(*values), original(*values))
    assert type(door(*values)) is type(original(*values))
