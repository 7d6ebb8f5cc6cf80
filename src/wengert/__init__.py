"""wengert: automatic differentiation of ordinary NumPy code.

The public names are those of ``__all__`` (and ``dir(wengert)`` lists them); the reference is
docs/api.md.
"""
__version__ = "0.2.0"

from .api import gradient, grad, hessian, jacobian, pullback, value_and_grad, withgradient
from .forward_api import derivative, jvp, partial, pushforward
from .forwarddiff import forwarddiff
from .checkpoint import checkpoint, stop_gradient
from .compile_api import compile
from .errors import DifferentiationError
from .params import Grads, Params, update
from .primitives import non_differentiable, primitive
from .registry import frule, opt_out, rrule
from .tangents import NoTangent, OneHot, Tangent, Zero
from .ravel import ravel
from .tree import register_tree
from . import rules as _rules  # noqa: F401  (registers the library's rules)
from . import testing
from . import optim

__all__ = [
    "gradient", "withgradient", "pullback", "jacobian", "grad", "value_and_grad", "hessian",
    "pushforward", "jvp", "derivative", "partial", "forwarddiff",
    "Zero", "NoTangent", "OneHot", "Tangent",
    "Params", "Grads", "update",
    "primitive", "rrule", "frule", "opt_out", "non_differentiable",
    "register_tree", "ravel", "testing", "DifferentiationError", "checkpoint", "stop_gradient",
    "compile",
]


def __dir__():
    # dir(wengert) shows what users may call, not the modules behind it.
    return sorted(__all__ + ["__version__", "optim"])
