"""loop: a Python loop that reads every element of a vector, s = Σ x[i]·x[i]; the gradient.

Every element costs three traced calls (getitem, multiply, add), so this measures per-call
overhead at scale and, run at several n, whether the cost of a gradient grows linearly:
reading one element must not cost O(n) in the backward pass (a dense cotangent per read
would make the whole gradient O(n²)). Compare the per-element column across n.

The baseline runs the same loop for the value (as every AD system must) and writes the
gradient, 2x, vectorized; the ratio is thus "gradient cost / plain loop cost".

JAX is skipped here unless ``--slow-peers``: every x[i] with a new i compiles its own XLA
kernels, so the first eager call takes about a minute at n = 1000 (growing faster than n),
and jit of the unrolled loop took minutes to compile at n = 2500 on the development machine.
"""
import numpy as np

from ..harness import Case
from ..peers import baseline, standard

NAME = "loop"
TITLE = "loop: s = Σ x[i]·x[i] by a Python loop over every element, gradient"
UNIT = "element"

JAX_NOTE = ("skipped: each new index compiles new XLA kernels (first call ≈1 min at n = 1000, "
            "worse than linear); run with --slow-peers to include")


def loss(xp, data, x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * x[i]
    return s


def gradient_by_hand(data, x):
    loss(np, data, x)                    # the value, computed as the AD systems do
    return (2 * x,)


def cases(quick):
    sizes = (250, 500, 1000) if quick else (2500, 5000, 10000)
    rng = np.random.default_rng(0)
    return [Case(f"n = {n}", {}, (rng.standard_normal(n),), units=n) for n in sizes]


def contenders(options):
    skip = {} if options.slow_peers else {"jax eager": JAX_NOTE, "jax jit": JAX_NOTE}
    return [baseline(gradient_by_hand), *standard(loss, skip=skip)]
