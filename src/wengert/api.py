"""The public transformations users call: each mode's own entry points, the ones that
combine modes (``jacobian``, ``hessian``), implicit parameters, and the JAX-style ``grad``.
The engines live below: ``reverse_api.py``, ``forward_api.py``, ``params.py``."""
import numpy as np

from . import forward_api, reverse_api
from .core.levels import primal
from .arraytypes import record_of
from .errors import DifferentiationError
from .params import Params, gradient_with_params
from .tree import flatten, is_differentiable


def withgradient(f, *args):
    """``(f(*args), gradient(f, *args))`` in one pass; ``Params`` arguments get ``Grads``.
    Where ``f`` returns a tuple, as in Zygote, the gradient is of its first element (a
    scalar) and the value is the whole tuple: extra outputs ride along undifferentiated."""
    _refuse_untraceable("wg.withgradient", args)
    if any(isinstance(a, Params) for a in args):
        return gradient_with_params(f, args)
    return reverse_api.withgradient(f, *args)


def gradient(f, *args):
    """The gradient of scalar ``f`` at ``args``: one gradient per argument, shaped like it."""
    _refuse_untraceable("wg.gradient", args)
    if any(isinstance(a, Params) for a in args):
        return gradient_with_params(f, args, first_of_tuple=False)[1]
    return reverse_api.withgradient(f, *args, first_of_tuple=False)[1]


def pullback(f, *args):
    """``(y, back)``: ``back(dy)`` returns one cotangent per argument; call it as often as
    you like."""
    _refuse_params("wg.pullback", args)
    return reverse_api.pullback(f, *args)


def jacobian(f, *args, mode="reverse"):
    """One Jacobian per argument, each of shape ``y.shape + x.shape``; ``mode="forward"``
    builds it column by column."""
    _refuse_params("wg.jacobian", args)
    _refuse_untraceable("wg.jacobian", args)
    if mode == "forward":
        return forward_api.jacobian(f, *args)
    if mode != "reverse":
        raise ValueError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    return reverse_api.jacobian(f, *args)


def hessian(f, x):
    """The Hessian of scalar ``f`` at ``x``, shape ``x.shape + x.shape``: forward mode over
    the reverse-mode gradient, one Hessian-vector product per coordinate. A list or other
    structure of numbers is flattened (wg.ravel): its Hessian is a square matrix over the
    flattened coordinates."""
    if flatten(x)[1].kind != "leaf":
        from .ravel import ravel

        vector, unravel = ravel(x)
        return hessian(lambda v: f(unravel(v)), vector)
    if np.iscomplexobj(primal(x)):
        raise DifferentiationError(
            "wg.hessian of a function of complex x: its second derivatives over Re x and "
            "Im x form a real matrix twice as wide that one complex array of shape "
            "x.shape + x.shape cannot hold. Differentiate in real coordinates instead, e.g. "
            "wg.hessian(lambda v: f(v[0] + 1j * v[1]), np.stack([x.real, x.imag])).")
    grad_f = lambda z: reverse_api.withgradient(f, z, first_of_tuple=False)[1][0]   # noqa: E731
    x_shape = np.shape(primal(x))
    if x_shape == ():
        return forward_api.derivative(grad_f, x)
    columns = [forward_api.jvp(grad_f, (x,), (t,))[1] for t in forward_api.unit_tangents(x)]
    return np.reshape(np.stack(columns, axis=-1), x_shape + x_shape)


def value_and_grad(f, argnums=0, has_aux=False):
    """JAX-style: a function returning ``(value, gradient)`` of ``f`` with respect to the
    arguments ``argnums`` (an int, or a tuple for a tuple of gradients). With ``has_aux``, ``f``
    returns ``(value, aux)`` and the function returns ``((value, aux), gradient)``. Keyword
    arguments go to ``f`` unchanged and are not differentiated, as in JAX."""
    return _value_and_grad(f, argnums, has_aux, "wg.value_and_grad")


def _value_and_grad(f, argnums, has_aux, name):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    def value_and_gradient_of_f(*args, **kwargs):
        def f_of_selected(*selected):
            full = list(args)
            for n, value in zip(nums, selected):
                full[n] = value
            return f(*full, **kwargs)

        selected = [args[n] for n in nums]
        _refuse_untraceable(name, selected)
        if has_aux:
            out, grads = withgradient(_with_aux(f_of_selected), *selected)
        else:
            out, grads = reverse_api.withgradient(f_of_selected, *selected,
                                                  first_of_tuple=False)
        return out, (grads[0] if single else grads)

    return value_and_gradient_of_f


def grad(f, argnums=0, has_aux=False):
    """JAX-style: a function computing the gradient of ``f`` with respect to ``argnums`` (an
    int, or a tuple for a tuple of gradients). With ``has_aux``, ``f`` returns ``(value,
    aux)`` and the function returns ``(gradient, aux)``. Keyword arguments go to ``f``
    unchanged and are not differentiated, as in JAX."""
    value_and_gradient_of_f = _value_and_grad(f, argnums, has_aux, "wg.grad")

    def gradient_of_f(*args, **kwargs):
        out, grads = value_and_gradient_of_f(*args, **kwargs)
        return (grads, out[1]) if has_aux else grads

    return gradient_of_f


def _with_aux(f):
    """``f`` that must return a pair ``(value, aux)``, as ``has_aux`` promises."""
    def f_returning_a_pair(*args):
        out = f(*args)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise DifferentiationError(
                "With has_aux=True the function must return a pair (value, aux), where value "
                f"is the scalar to differentiate; it returned {type(out).__name__}"
                + (f" of length {len(out)}" if isinstance(out, tuple) else "") + ".")
        return out

    return f_returning_a_pair


# Arguments that carry no tangent on purpose and get the gradient None (documented): Python
# and NumPy integers and flags, strings, None.
_PLAIN_CONSTANTS = (int, bool, str, bytes, type(None), np.integer, np.bool_)


def _refuse_untraceable(name, args):
    """An explicit argument whose type cannot carry a gradient — an integer or boolean array,
    an object wengert cannot take apart — is a mistake more often than not (a float array
    built with np.arange, a model class wengert does not know), so it is an error naming the
    argument rather than the gradient None. Leaves inside lists, dicts and dataclasses keep
    None: a model may hold integer sizes or index arrays. ``wg.pullback`` accepts such
    arguments (their cotangent is None): it is the tool for calls with index arrays and
    settings objects among the arguments, as a rule's checks make them."""
    for position, a in enumerate(args):
        array = isinstance(a, np.ndarray) or record_of(a) is not None   # Dask's too
        if isinstance(a, (Params, _PLAIN_CONSTANTS)) or (
                array or isinstance(a, np.generic)) and a.dtype.kind in "fc":
            continue
        if array:
            raise DifferentiationError(
                f"{name}: argument {position} is an array of dtype {a.dtype}, which has no "
                "gradient. Make it a float array (x.astype(float)) to differentiate it, or "
                "leave it out: close over it, or pick the arguments to differentiate with "
                "wg.grad(f, argnums=...) / wg.value_and_grad.")
        if isinstance(a, (list, tuple, dict)):
            continue   # a structure: its leaves keep None (no need to take it apart twice)
        if flatten(a)[1].kind == "leaf" and not is_differentiable(a):
            raise DifferentiationError(
                f"{name}: argument {position} is a {type(a).__module__}.{type(a).__qualname__}, "
                "which wengert cannot take apart to find arrays in. Describe its class with "
                "wg.register_tree (or make it a dataclass) to differentiate its arrays, or "
                "leave it out: close over it, or use wg.grad(f, argnums=...).")


def _refuse_params(name, args):
    if any(isinstance(a, Params) for a in args):
        raise DifferentiationError(
            f"{name} takes explicit arguments only; wg.Params works with wg.gradient and "
            "wg.withgradient. Pass the arrays themselves to differentiate them here.")
