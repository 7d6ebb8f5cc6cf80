import numpy as np
import pytest

from wengert.registry import _non_differentiable, forward_rules, reverse_rules


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def registry_restored():
    """Rules a test registers (for np.matmul, np.exp, its own primitives) end with it."""
    saved = [(table, {fn: list(rules) for fn, rules in table.entries.items()},
              dict(table.generic)) for table in (reverse_rules, forward_rules)]
    marked = set(_non_differentiable)
    yield
    for table, entries, generic in saved:
        # In place: other modules hold references to these dicts.
        table.entries.clear()
        table.entries.update(entries)
        table.generic.clear()
        table.generic.update(generic)
        table.cache.clear()
    _non_differentiable.clear()
    _non_differentiable.update(marked)
