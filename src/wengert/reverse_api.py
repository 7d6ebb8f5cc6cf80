"""Reverse mode on explicit arguments: one traced run of ``f``, its value and its pullback;
the gradient, pullback and reverse-mode Jacobian built on it. (wg.Params, modes combined and
the JAX-style transforms are in ``api.py``.)"""
import numpy as np

from .arraytypes import (StagedValue, asarray_like, dtype_of, of_the_kind_of, ones_like_value,
                         placed_like, shape_of, users_own, writeable)
from .core.levels import (Tracer, current_level, enter, leave, primal, quiet_collector,
                          scalar_if_scalar)
from .core.reverse import ReverseLevel, ReverseTracer
from .errors import DifferentiationError
from .tangents import ZERO, Indexed, is_zero, to_dense, zero_for_none
from .tree import flatten, is_differentiable, unflatten, unflatten_tangent


class _ReverseTrace:
    """One run of ``f`` under a fresh reverse level: its output and how to pull back."""

    def __init__(self, f, args, keep=False):
        """``keep``: the caller may write into the arguments before it pulls back (the
        ``back`` of wg.pullback outlives this call), so the tape reads copies of them."""
        self.level = level = ReverseLevel(current_level())
        leaves, self.treedef = flatten(args)
        self.leaves = leaves
        self.differentiable = [is_differentiable(x) for x in leaves]
        wrapped = [level.new_input(_kept(x) if keep else x) if d else x
                   for x, d in zip(leaves, self.differentiable)]
        token = enter(level)
        try:
            with quiet_collector():
                out = f(*unflatten(self.treedef, wrapped))
        finally:
            leave(token)
            level.active = False
        out_leaves, self.out_treedef = flatten(out)
        self.out_indices = [x._index if _of_level(x, level) else None for x in out_leaves]
        self.out_primals = [x._value if _of_level(x, level) else x for x in out_leaves]
        self.value = unflatten(self.out_treedef, self.out_primals)

    def back(self, cotangent, free=False):
        return unflatten_tangent(self.treedef, self.leaf_cotangents(cotangent, free))

    def leaf_cotangents(self, cotangent, free=False):
        """The cotangent of every leaf of the arguments (None for a leaf with no tangent)."""
        ct_leaves, ct_treedef = flatten(cotangent)
        ct_leaves = [zero_for_none(ct) for ct in ct_leaves]   # None: no cotangent, as Zero
        if len(ct_leaves) != len(self.out_indices):
            raise DifferentiationError(
                "The cotangent passed to back() does not match the structure of the "
                f"function's output ({len(self.out_indices)} leaves expected, "
                f"{len(ct_leaves)} given)."
            )
        seeds = [(i, ct) for i, ct in zip(self.out_indices, ct_leaves)
                 if i is not None and not is_zero(ct)]
        for y, ct in zip(self.out_primals, ct_leaves):
            if not is_zero(ct) and shape_of(ct) != shape_of(y):
                # Broadcasting would hand back gradients of the wrong shape, silently.
                raise DifferentiationError(
                    f"back() received a cotangent of shape {shape_of(ct)} for an output of "
                    f"shape {shape_of(y)}; each cotangent must have its output's shape."
                )
        num_inputs = sum(self.differentiable)
        input_cts = self.level.backward(seeds, num_inputs, free) if seeds else [ZERO] * num_inputs
        self.reached = [not is_zero(ct) for ct in input_cts]   # per differentiable leaf
        grads = iter(input_cts)
        return [_project(x, next(grads)) if d else None
                for x, d in zip(self.leaves, self.differentiable)]


def _of_level(x, level):
    return isinstance(x, ReverseTracer) and x._level is level


def _project(x, g):
    """Give the cotangent of input ``x`` the type of ``x``: its shape, real or complex, its
    precision, a Python float for a float, an ndarray subclass for a subclass."""
    if is_zero(g):
        g = np.zeros_like(primal(x))
    elif isinstance(g, Indexed):
        g = to_dense(g)
    x_dtype = dtype_of(x)
    if isinstance(g, Tracer):
        if x_dtype.kind != "c" and g.dtype.kind == "c":
            g = np.real(g)
        if g.dtype != x_dtype:
            g = g.astype(x_dtype)
        return scalar_if_scalar(x, g)
    if x_dtype.kind != "c" and np.iscomplexobj(g):
        g = np.real(g)
    if type(x) is float:
        return float(g)
    if type(x) is complex:
        return complex(g)
    x = primal(x)
    if isinstance(g, StagedValue):   # wg.compile: staged, made of the kind x is staged as
        if isinstance(x, StagedValue):
            g = of_the_kind_of(g, x)
        return g if g.dtype == x_dtype else g.astype(x_dtype)
    # an array of x's kind: a Python number made an array, a NumPy one for a Dask x a Dask one
    g = of_the_kind_of(g, x) if isinstance(g, (np.ndarray, np.generic)) else asarray_like(g, x)
    if g.dtype != x_dtype:
        g = g.astype(x_dtype)
    if isinstance(x, np.generic) and not isinstance(g, np.generic):
        g = g[()]
    elif isinstance(x, np.ndarray) and not isinstance(g, np.ndarray):
        g = np.asarray(g)  # a 0-d array's cotangent arrives as a NumPy scalar
    if isinstance(g, np.ndarray) and not users_own(g):
        g = g.copy()   # a broadcast view (the cotangent of a sum): give the user their own array
    if isinstance(x, np.ndarray) and isinstance(g, np.ndarray) and type(g) is not type(x):
        g = g.view(type(x))   # an ndarray subclass input gets its subclass; a selection mark is internal
    return g


def _scalar_seed(trace, fn_name, first_of_tuple=False):
    """The cotangent that starts a gradient: 1 for the scalar output. With ``first_of_tuple``,
    for a tuple output (as in Zygote's withgradient, and JAX's has_aux) the gradient is of its
    first element, a scalar, and the other elements ride along."""
    kind, children = trace.out_treedef.kind, trace.out_treedef.children
    if (first_of_tuple and kind in ("tuple", "namedtuple") and children
            and children[0].kind == "leaf"):
        seed = _scalar_seed_of(trace.out_primals[0], fn_name)
        return unflatten(trace.out_treedef, [seed] + [ZERO] * (len(trace.out_primals) - 1))
    if len(trace.out_primals) != 1 or kind != "leaf":
        raise DifferentiationError(
            f"{fn_name} needs a function returning one real scalar; this one returned "
            f"{type(trace.value).__name__}. For a function returning (loss, extras) use "
            "wg.withgradient (the gradient is of the first element) or wg.grad(f, "
            "has_aux=True); wg.pullback or wg.jacobian for other outputs."
        )
    return _scalar_seed_of(trace.out_primals[0], fn_name)


def _scalar_seed_of(y, fn_name):
    shape = np.shape(primal(y))
    # An array of one element, of shape (1,) or (1, 1), counts as a scalar, as in PyTorch
    # and autograd: its gradient is that of its one entry.
    if any(n != 1 for n in shape) or np.iscomplexobj(primal(y)):
        raise DifferentiationError(
            f"{fn_name} needs a function returning one real scalar; this one returned an "
            f"array of shape {shape} and dtype {np.result_type(primal(y))}. Reduce it to a "
            "scalar (np.sum, ...) or use wg.pullback / wg.jacobian."
        )
    seed = ones_like_value(y, shape=shape)
    return seed if shape else seed[()]


def withgradient(f, *args, first_of_tuple=True):
    """``(f(*args), gradient(f, *args))`` in one pass, for explicit arguments. With
    ``first_of_tuple``, a tuple output's first element is differentiated (see
    ``_scalar_seed``); otherwise the output must be one scalar (``wg.gradient``)."""
    return withgradient_and_reach(f, args, first_of_tuple)[:2]


def withgradient_and_reach(f, args, first_of_tuple=True):
    """``withgradient``, and per differentiable leaf of ``args`` whether any cotangent reached
    it (an input the output does not depend on, as far as the tape saw, has False)."""
    trace = _ReverseTrace(f, args)
    seed = _scalar_seed(trace, "wg.withgradient" if first_of_tuple else "wg.gradient",
                        first_of_tuple)
    grads = trace.back(seed, free=True)
    return trace.value, grads, trace.reached


def pullback(f, *args):
    """``(y, back)``: ``back(dy)`` returns one cotangent per argument; call it as often as
    you like."""
    trace = _ReverseTrace(f, args, keep=True)
    # The value is the tape's own output arrays (exp's pullback reads its output): the
    # caller gets copies to write into.
    values, treedef = flatten(trace.value)
    return unflatten(treedef, [_kept(v) for v in values]), trace.back


def _kept(x):
    """A copy of a plain array that someone may write into (a tracer is kept as its own
    object by the level); anything else as it is."""
    if isinstance(x, np.ndarray) and writeable(x):
        return x.copy(order="K")
    return x


def jacobian(f, *args):
    """One Jacobian per argument, each of shape ``y.shape + x.shape``: one pullback per
    output element (two for a complex output of a real argument)."""
    trace = _ReverseTrace(f, args)
    y = primal(trace.value)
    if trace.out_treedef.kind != "leaf":
        raise DifferentiationError("wg.jacobian needs a function returning one array.")
    y_shape = np.shape(y)
    y_dtype = np.result_type(y)
    complex_output = y_dtype.kind == "c"

    def row(k, scale):
        basis = placed_like(y, np.unravel_index(k, y_shape), scale, y_shape, y_dtype)
        return trace.leaf_cotangents(basis if y_shape else basis[()])

    # Row k of J is the pullback of the basis cotangent e_k. A pullback applies Jᴴ, so for a
    # complex output of a complex input (holomorphic) the row is conjugated back to J[k]. A
    # real input's cotangent is real, so for a complex output its row takes two pullbacks:
    # Re J[k] from e_k, Im J[k] from i·e_k. A real output of a complex input keeps the
    # gradient convention of wg.gradient (∂/∂Re z + i ∂/∂Im z), row by row.
    count = int(np.prod(y_shape))
    rows = [row(k, 1) for k in range(count)]
    imaginary_rows = [row(k, 1j) for k in range(count)] if complex_output else None
    arg_leaves, arg_def = flatten(args)
    jac_leaves = []
    for j, x in enumerate(arg_leaves):
        if not is_differentiable(x):
            jac_leaves.append(None)
            continue
        x_shape = np.shape(primal(x))
        # stacked as arrays of x's kind (np.stack of Dask arrays is Dask's stack)
        stacked = np.stack([asarray_like(r[j], x) for r in rows])
        if np.iscomplexobj(primal(x)):
            stacked = np.conjugate(stacked) if complex_output else stacked
        elif complex_output:
            stacked = stacked + 1j * np.stack([asarray_like(r[j], x) for r in imaginary_rows])
        jac_leaves.append(stacked.reshape(y_shape + x_shape))
    return unflatten_tangent(arg_def, jac_leaves)
