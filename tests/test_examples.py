"""Every script in examples/ runs to completion: each checks its own numbers with assert."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_are_examples():
    assert EXAMPLES, "examples/ holds no scripts"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script):
    if "import dask" in script.read_text():
        pytest.importorskip("dask.distributed")
    # A fresh interpreter per example: the rules an example registers stay in it. Examples
    # with a large default size (the Dask cluster's) run their quick mode.
    env = dict(os.environ, WENGERT_EXAMPLE_QUICK="1")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (
        f"{script.name} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}")
    assert result.stdout.strip(), f"{script.name} printed nothing to demonstrate"
