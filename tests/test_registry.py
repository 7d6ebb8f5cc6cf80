"""The library's rule tables are complete: every function with a reverse rule has a forward
rule, or is marked reverse-only on purpose (``rules._helpers.reverse_only``, with a reason
where it is called).

Only the library's own rules count: tests register rules for their own primitives in the same
tables, and those need not come in pairs.
"""
import wengert  # noqa: F401  (registers every rule)
from wengert.errors import name_of
from wengert.registry import OPT_OUT, forward_rules, reverse_rules
from wengert.rules._helpers import REVERSE_ONLY


def library_rules(table):
    """The functions that have a rule of the library (not a test's, not an opt-out)."""
    return {fn for fn, entries in table.entries.items()
            if any(r.impl is not OPT_OUT
                   and getattr(r.impl, "__module__", "").startswith("wengert.")
                   for r in entries)}


def test_the_tables_hold_the_library_rules():
    """The filter below sees the library's rules (a filter that sees nothing passes always)."""
    import numpy as np

    reverse = library_rules(reverse_rules)
    assert {np.exp, np.add, np.sum, np.matmul, np.clip, np.angle} <= reverse
    assert len(reverse) > 100
    assert {np.exp, np.add, np.clip, np.angle} <= library_rules(forward_rules)


def test_every_reverse_rule_has_a_forward_rule():
    missing = library_rules(reverse_rules) - library_rules(forward_rules) - REVERSE_ONLY
    assert not missing, (
        f"{len(missing)} functions have a reverse rule but no forward rule (add an @forward "
        "rule under the @reverse one, or call reverse_only(fn) saying why): "
        + ", ".join(sorted(name_of(fn) for fn in missing)))


def test_reverse_only_marks_are_not_stale():
    """A function marked reverse-only has a reverse rule, and no forward rule after all."""
    reverse = library_rules(reverse_rules)
    forward = library_rules(forward_rules)
    assert not {name_of(fn) for fn in REVERSE_ONLY if fn not in reverse}
    assert not {name_of(fn) for fn in REVERSE_ONLY if fn in forward}
