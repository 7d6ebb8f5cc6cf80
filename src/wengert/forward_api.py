"""Forward mode: pushforward, jvp, derivative, partial and forward Jacobians, all from one
traced run of ``f`` on dual numbers per tangent."""
import numpy as np

from .arraytypes import (of_numpy_kind, of_the_kind_of, ones_like_value, shape_of, users_own,
                         zeros_like_value)
from .core.forward import ForwardLevel, ForwardTracer
from .core.levels import Tracer, current_level, enter, leave, primal, scalar_if_scalar
from .errors import DifferentiationError
from .partials import QUIET
from .tangents import ZERO, Indexed, OneHot, is_zero, scale, to_dense, zero_for_none
from .tree import flatten, is_differentiable, unflatten, unflatten_tangent


def _run_forward(f, args, tangents):
    """Run ``f`` on dual numbers; returns ``(output, output tangent)`` with the structure of
    ``f``'s output."""
    leaves, treedef = flatten(args)
    tangent_leaves = _tangent_leaves(tangents, treedef, len(leaves))
    for x, t in zip(leaves, tangent_leaves):
        if not is_zero(t) and shape_of(t) != shape_of(x):
            # NumPy would broadcast the tangent against its argument: a wrong answer, silently.
            raise DifferentiationError(
                f"A tangent of shape {shape_of(t)} was given for an argument of shape "
                f"{shape_of(x)}; each tangent must have its argument's shape.")
    level = ForwardLevel(current_level())
    wrapped = [
        level.new_input(x, _of_its_kind(t, x)) if is_differentiable(x) and not is_zero(t)
        else x
        for x, t in zip(leaves, tangent_leaves)
    ]
    token = enter(level)
    try:
        # Derivatives at poles are infinite where a tangent 0 then masks them: NumPy's
        # warnings about those are switched off for the run, once (not once per operation).
        with np.errstate(**QUIET):
            out = f(*unflatten(treedef, wrapped))
    finally:
        leave(token)
        level.active = False
    out_leaves, out_def = flatten(out)
    values, out_tangents = [], []
    for y in out_leaves:
        if isinstance(y, ForwardTracer) and y._level is level:
            values.append(y._value)
            out_tangents.append(_dense_like(y._value, y._tangent))
        else:
            values.append(y)
            out_tangents.append(_dense_like(y, ZERO) if is_differentiable(y) else None)
    return unflatten(out_def, values), unflatten(out_def, out_tangents)


def _tangent_leaves(tangents, treedef, count):
    """Tangents given per argument (each mirroring its argument, or Zero for all of it)."""
    leaves = []
    for sub_def, t in zip(treedef.children, tangents):
        t = zero_for_none(t)   # the user's None: no tangent, as Zero
        if is_zero(t):
            leaves.extend([ZERO] * sub_def.num_leaves)
        elif sub_def.kind == "leaf":
            leaves.append(t)
        else:
            sub_leaves, _ = flatten(t)
            if len(sub_leaves) != sub_def.num_leaves:
                raise DifferentiationError(
                    "A tangent does not match the structure of its argument "
                    f"({sub_def.num_leaves} leaves expected, {len(sub_leaves)} given).")
            leaves.extend(map(zero_for_none, sub_leaves))
    if len(leaves) != count:
        raise DifferentiationError(
            f"Expected one tangent per argument ({len(treedef.children)}), got {len(tangents)}.")
    return leaves


def _of_its_kind(t, x):
    """Tangent ``t`` of an argument of another library than NumPy (CuPy, Dask) in that
    library: a NumPy tangent (a OneHot's 1 included) would meet its arrays, which CuPy
    refuses. NumPy's arguments keep their tangents as they are."""
    value = primal(x)
    if of_numpy_kind(value):
        return t
    if isinstance(t, Indexed):
        values = of_the_kind_of(t.values, value)
        return t if values is t.values else Indexed(t.index, values, t.shape, t.dtype)
    return of_the_kind_of(t, value) if isinstance(t, np.ndarray) else t


def _dense_like(y, t):
    """The output tangent as an array (or float) of the output's type."""
    if is_zero(t):
        t = np.zeros_like(primal(y))
    elif isinstance(t, Indexed):
        t = to_dense(t)
    if isinstance(t, Tracer):
        return scalar_if_scalar(y, t)
    if isinstance(t, np.ndarray) and (type(t) is not np.ndarray or not users_own(t)):
        t = np.array(t)   # an internal subclass or a broadcast view: the user's own array
    if type(y) is float and np.ndim(t) == 0 and not np.iscomplexobj(t):
        return float(t)
    if isinstance(primal(y), np.generic) and type(t) is np.ndarray and t.ndim == 0:
        return t[()]   # a NumPy scalar output gets a NumPy scalar tangent, not a 0-d array
    return of_the_kind_of(t, y)   # a Dask output's tangent is a Dask array


def jvp(f, args, tangents):
    """The value of ``f`` and its Jacobian-vector product, in one forward pass.

    Parameters
    ----------
    f : callable
        A function of ``len(args)`` positional arguments, written with NumPy.
    args : tuple
        The point: the arguments of ``f`` (arrays, numbers, or trees of them).
    tangents : tuple
        One tangent per argument, shaped like it (a tree like a tree argument). ``None`` or
        ``wg.Zero()`` means the argument does not move; ``wg.OneHot`` is a sparse unit tangent.

    Returns
    -------
    (y, dy)
        ``y = f(*args)`` and ``dy = J·tangents``, shaped like ``y``.

    Raises
    ------
    DifferentiationError
        If ``args`` or ``tangents`` is not a tuple (or list), if their lengths differ, or if
        a tangent's shape or structure differs from its argument's.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> y, dy = wg.jvp(lambda a, b: a * b, (2.0, 3.0), (1.0, 0.0))
    >>> print(y, dy)
    6.0 3.0
    """
    if not isinstance(args, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        # jvp(f, x, t) with arrays would unpack them row by row: a confusing error far away.
        given = ", ".join(type(v).__name__ for v in (args, tangents))
        raise DifferentiationError(
            f"wg.jvp(f, args, tangents) takes a tuple of arguments and a tuple of tangents, "
            f"one per argument; it was given ({given}). For one argument write "
            "wg.jvp(f, (x,), (t,)), or use wg.pushforward(f, x)(t).")
    args, tangents = tuple(args), tuple(tangents)
    if len(args) != len(tangents):
        raise DifferentiationError(
            f"wg.jvp needs one tangent per argument: {len(args)} arguments, "
            f"{len(tangents)} tangents.")
    return _run_forward(f, args, tangents)


def pushforward(f, *args):
    """The pushforward of ``f`` at ``args``: a function from input tangents to the output
    tangent.

    Parameters
    ----------
    f : callable
        A function of ``len(args)`` positional arguments.
    *args
        The point at which to differentiate.

    Returns
    -------
    callable
        ``pf(*tangents)``, one tangent per argument, returning ``J·tangents`` (what
        ``wg.jvp(f, args, tangents)[1]`` gives). Each call is one forward pass.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> pf = wg.pushforward(lambda a, b: a * b, 2.0, 3.0)
    >>> print(pf(1.0, 0.0), pf(0.0, 1.0))
    3.0 2.0
    """
    def pf(*tangents):
        return jvp(f, args, tangents)[1]

    return pf


def derivative(f, x):
    """The derivative ``df/dx`` at a scalar ``x``, for an output of any shape, by forward mode.

    Parameters
    ----------
    f : callable
        A function of one argument.
    x : float, complex, NumPy scalar or 0-d array
        The point.

    Returns
    -------
    The derivative, shaped like ``f(x)``: one forward pass for a real ``x``; for a complex
    ``x``, two, giving the Jacobian column reverse mode builds (``f'(z)`` for a holomorphic
    ``f``; see ``_complex_column``). ``None`` for an ``x`` with no tangent (an ``int``), as
    ``wg.gradient`` gives.

    Raises
    ------
    DifferentiationError
        If ``x`` is an array with axes (use ``wg.jacobian`` or ``wg.partial``).

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> print(wg.derivative(lambda t: np.stack([t ** 2, np.sin(t)]), 0.0))
    [0. 1.]
    """
    if np.ndim(primal(x)) != 0:
        raise DifferentiationError(
            "wg.derivative needs a scalar x; use wg.jacobian or wg.partial for arrays.")
    if not is_differentiable(x):
        return None
    return _python_scalars(x, _column(f, (x,), 0, _unit(x)))


def _column(f, args, argnum, unit):
    """The output tangent for the unit tangent ``unit`` of ``args[argnum]``: one forward
    pass for a real argument, two (along 1 and i) for a complex one."""
    tangents = [ZERO] * len(args)
    tangents[argnum] = unit
    y, along_real = jvp(f, args, tangents)
    if not _is_complex(args[argnum]):
        return along_real
    tangents[argnum] = _times_i(unit)
    along_imaginary = jvp(f, args, tangents)[1]
    return _complex_column(along_real, along_imaginary, y)


def _complex_column(a, b, y):
    """The Jacobian column of a complex coordinate z from the output tangents ``a`` along 1
    and ``b`` along i, in reverse mode's convention (docs/conventions.md): for a real output,
    the gradient direction ∂/∂Re z + i ∂/∂Im z = a + ib; for a complex output w,
    ∂w/∂z + conj(∂w/∂z̄), which is f'(z) for a holomorphic f. (∂w/∂z = (a − ib)/2 and
    ∂w/∂z̄ = (a + ib)/2.)"""
    leaves, treedef = flatten(a)
    b_leaves = flatten(b)[0]
    y_leaves = flatten(y)[0]
    out = []
    for ta, tb, v in zip(leaves, b_leaves, y_leaves):
        if ta is None:
            out.append(None)
        elif _is_complex(v):
            out.append((ta - 1j * tb) / 2 + np.conjugate(ta + 1j * tb) / 2)
        else:
            out.append(ta + 1j * tb)
    return unflatten(treedef, out)


def _is_complex(x):
    return np.iscomplexobj(primal(x))


def _times_i(unit):
    return scale(unit, 1j)


def _unit(x):
    """The tangent 1 for a scalar ``x``, of its type (a Python float for a float)."""
    if type(x) is float or type(x) is complex:
        return type(x)(1)
    return ones_like_value(x, shape=())[()]


def _python_scalars(x, dy):
    """For a Python-number ``x``, scalar leaves of ``dy`` as Python numbers, the way
    gradients of Python floats are floats."""
    if type(x) is not float and type(x) is not complex:
        return dy
    leaves, treedef = flatten(dy)
    leaves = [
        (complex(t) if np.iscomplexobj(t) else float(t))
        if isinstance(t, (np.ndarray, np.generic)) and np.ndim(t) == 0 else t
        for t in leaves
    ]
    return unflatten(treedef, leaves)


def partial(f, *args, argnum=0, index=None):
    """One partial derivative, ∂f/∂args[argnum][index], by one forward pass.

    The tangent is a sparse one-hot (``wg.OneHot``): no other partial derivative is
    computed, and elementwise operations, indexing and the 2-norm keep it sparse, so one
    partial of a function of many numbers costs about one evaluation of the function.

    Parameters
    ----------
    f : callable
        A function of ``len(args)`` positional arguments.
    *args
        The point.
    argnum : int
        Which argument to differentiate.
    index : int or tuple of int, optional
        The coordinate in that argument: a flat position (negative counts from the end) or
        one position per axis. Omit it for a scalar argument.

    Returns
    -------
    The partial derivative, shaped like ``f``'s output; ``None`` for an argument with no
    tangent (an ``int``). A complex coordinate takes two passes (see ``_complex_column``).

    Raises
    ------
    DifferentiationError
        If ``index`` is missing for an array argument.
    IndexError
        If ``index`` is out of range.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> print(wg.partial(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]), index=1))
    12.0
    """
    x = args[argnum]
    if not is_differentiable(x):
        return None
    shape = np.shape(primal(x))
    if shape == ():
        tangent = _unit(x)
    else:
        if index is None:
            raise DifferentiationError("wg.partial needs index= for an array argument.")
        tangent = OneHot(index, shape, np.result_type(primal(x)))
    return _python_scalars(x, _column(f, args, argnum, tangent))


def jacobian(f, *args):
    """One Jacobian per argument, shape ``y.shape + x.shape``, built column by column: one
    forward pass per input coordinate (two for a complex one). ``wg.jacobian(f, *args,
    mode="forward")`` calls this; arguments with no tangent get None."""
    leaves, treedef = flatten(args)
    y_shape = None
    jac_leaves = []
    for j, x in enumerate(leaves):
        if not is_differentiable(x):
            jac_leaves.append(None)
            continue
        columns = []
        for t in unit_tangents(x):
            tangent_leaves = [ZERO] * len(leaves)
            tangent_leaves[j] = t
            y, dy = _run_forward_leaves(f, leaves, treedef, tangent_leaves)
            y_shape = _output_shape(y)
            if _is_complex(x):
                tangent_leaves[j] = _times_i(t)
                dy = _complex_column(dy, _run_forward_leaves(f, leaves, treedef,
                                                             tangent_leaves)[1], y)
            if dy is None:   # an output with no tangent (an int): its Jacobian is zero
                dy = zeros_like_value(x, shape=y_shape)
            columns.append(dy)
        x_shape = np.shape(primal(x))
        if not columns:     # x has no coordinates: the output's shape still comes from f
            y_shape = _output_shape(f(*args)) if y_shape is None else y_shape
            jac_leaves.append(zeros_like_value(x, shape=y_shape + x_shape, dtype=np.float64))
            continue
        # np.stack, not np.array: columns may be tracers of an outer level (nesting).
        jac_leaves.append(np.reshape(np.stack(columns, axis=-1), y_shape + x_shape))
    return unflatten_tangent(treedef, jac_leaves)


def _output_shape(y):
    leaves = flatten(y)[0]
    if len(leaves) != 1:
        raise DifferentiationError("wg.jacobian needs a function returning one array.")
    return np.shape(primal(leaves[0]))


def unit_tangents(x):
    """One unit tangent per coordinate of ``x``: ``OneHot``s, or the number 1 for a scalar."""
    shape = np.shape(primal(x))
    if shape == ():
        return [_unit(x)]
    dtype = np.result_type(primal(x))
    return [OneHot(k, shape, dtype) for k in range(int(np.prod(shape)))]


def _run_forward_leaves(f, leaves, treedef, tangent_leaves):
    tangents = []
    it = iter(tangent_leaves)
    for sub_def in treedef.children:
        parts = [next(it) for _ in range(sub_def.num_leaves)]
        tangents.append(parts[0] if sub_def.kind == "leaf" else unflatten(sub_def, parts))
    return _run_forward(f, unflatten(treedef, leaves), tangents)
