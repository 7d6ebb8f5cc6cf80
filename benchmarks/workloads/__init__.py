"""The workloads, by name. Each module has NAME, TITLE, UNIT (what the per-unit column counts,
or None), ``loss(xp, data, *params)`` written once for every array namespace,
``gradient_by_hand(data, *params)``, ``cases(quick)`` and ``contenders(options)``; the first
contender is the hand-written baseline."""
from . import chain, gp, gp_rule, gp_scipy, hvp, loop, mlp, mutation, partial

WORKLOADS = {module.NAME: module
             for module in (chain, mlp, gp, gp_rule, gp_scipy, loop, mutation, partial, hvp)}
