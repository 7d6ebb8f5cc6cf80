"""``forwarddiff(f, x)``: inside a reverse-mode computation, differentiate ``f`` at ``x`` by
forward mode.

``f`` runs on dual numbers once per real coordinate of ``x`` (a one-hot tangent each time),
which gives the Jacobian ∂f/∂x column by column without taping the work on ``x``. What ``f``
closes over stays traced by the reverse level: those arrays are reverse tracers inside ``f``,
so the output's dependence on them is recorded on the tape as usual. The two halves meet in
one tape node, ``_join(y, x, jacobian)``, whose pullback sends the output cotangent on to
``y`` (and through its tape to the closure) and ``Jᵀ·ct`` to ``x``.
"""
import numpy as np

from .arraytypes import size_of
from .core.bind import bind
from .core.levels import Tracer, current_level, primal
from .core.reverse import ReverseTracer
from .forward_api import jvp
from .registry import reverse_rules
from .rules._helpers import reverse_only
from .tangents import ZERO, Indexed, OneHot, is_zero
from .tree import flatten, is_differentiable, unflatten


def forwarddiff(f, x):
    """``f(x)``, differentiated with respect to ``x`` by forward mode inside reverse mode.

    When an enclosing reverse-mode transformation traces ``x``, ``f`` runs once per real
    coordinate of ``x`` on dual numbers, and the Jacobian ∂f/∂x joins the tape as one step,
    so the work inside ``f`` on ``x`` is not taped. Arrays ``f`` closes over stay traced by
    the reverse level and keep their gradients (implicit parameters included). Worth it for
    a small ``x`` and a long ``f``. Otherwise (no reverse level traces ``x``) it is ``f(x)``,
    differentiated the ordinary way by any forward level around it.

    Parameters
    ----------
    f : callable
        A function of one argument; it may return an array or a tree of them.
    x : array or number
        The argument, usually a traced value of the enclosing ``wg.gradient``.

    Returns
    -------
    ``f(x)``, carrying its derivative with respect to ``x`` (and to what ``f`` closes over).

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> t = np.linspace(0.0, 1.0, 5)
    >>> def loss(theta):
    ...     return np.sum(wg.forwarddiff(lambda th: th[0] * np.sin(th[1] * t), theta) ** 2)
    >>> theta = np.array([1.0, 2.0])
    >>> by_reverse = wg.gradient(lambda th: np.sum((th[0] * np.sin(th[1] * t)) ** 2), theta)
    >>> bool(np.allclose(wg.gradient(loss, theta)[0], by_reverse[0]))
    True
    """
    level = current_level()
    if not (isinstance(x, ReverseTracer) and x._level is level):
        # No reverse level is differentiating x here: nothing to gain, f runs as it is
        # (any forward level around it differentiates it the ordinary way).
        return f(x)
    value = x._value
    directions = _directions(value)
    y = None
    columns = []
    for direction in directions:
        out, tangent = jvp(f, (value,), (direction,))
        if y is None:
            y = out   # the first run's output: its tape records the closure's part
        columns.append([_at_parent(level, t) for t in flatten(tangent)[0]])
    if y is None:                   # x has no coordinates (size 0)
        return f(value)
    leaves, treedef = flatten(y)
    joined = [
        _join_leaf(leaf, x, [column[i] for column in columns], value)
        for i, leaf in enumerate(leaves)
    ]
    return unflatten(treedef, joined)


def _directions(x):
    """One tangent per real coordinate of ``x``: each unit vector, and ``i`` times it for a
    complex ``x`` (a non-holomorphic ``f`` needs both)."""
    x = primal(x)
    shape = np.shape(x)
    dtype = np.result_type(x)
    complex_ = dtype.kind == "c"
    if shape == ():
        one = 1.0 if type(x) is float else (1 + 0j if type(x) is complex else dtype.type(1))
        return [one, one * 1j] if complex_ else [one]
    units = []
    for k in range(int(np.prod(shape))):
        unit = OneHot(k, shape, dtype)
        units.append(unit)
        if complex_:
            units.append(Indexed(unit.index, np.ones((), dtype) * 1j, shape, dtype))
    return units


def _at_parent(level, t):
    """A Jacobian column as the pullback will see it: without this level's tracer (the
    pullback runs at the parent level; the closure's part of the derivative goes through the
    tape of ``y``, not through ``J``)."""
    if isinstance(t, Tracer) and t._level is level:
        return t._value
    return t


class _Jacobian:
    """∂y/∂x of one output leaf: a matrix ``(y.size, x.size)`` per real direction of x
    (two, real and imaginary, for a complex x)."""

    __slots__ = ("parts", "x_shape", "x_dtype")

    def __init__(self, parts, x_shape, x_dtype):
        self.parts = parts
        self.x_shape = x_shape
        self.x_dtype = x_dtype


def _join_leaf(y, x, columns, x_value):
    if not is_differentiable(y) or all(is_zero(c) for c in columns):
        return y    # this output carries no tangent
    x_dtype = np.result_type(primal(x_value))
    y_size = size_of(primal(y))
    flat = [np.reshape(c, (y_size,)) for c in columns]
    if x_dtype.kind == "c":
        parts = (np.stack(flat[0::2], axis=-1), np.stack(flat[1::2], axis=-1))
    else:
        parts = (np.stack(flat, axis=-1),)
    return bind(_join, (y, x, _Jacobian(parts, np.shape(primal(x_value)), x_dtype)), {})


def _join(y, x, jacobian):
    """``y``, tied to ``x`` through ``jacobian`` for the reverse pass (see the module)."""
    return y


def _join_rule(needs, y, x, jacobian):
    def join_pullback(ct):
        return (ct if needs[0] else ZERO, _pull_x(ct, jacobian) if needs[1] else ZERO, ZERO)

    return y, join_pullback


def _pull_x(ct, jacobian):
    """``Jᵀ·ct`` in the gradient convention: ⟨g, dx⟩ = Re⟨ct, J dx⟩ for every real
    direction of x, so each direction's part is ``Re(ct^H J)``."""
    ct = np.reshape(ct, (-1,))
    real_pairs = [_real_pairing(ct, part) for part in jacobian.parts]
    g = real_pairs[0] if len(real_pairs) == 1 else real_pairs[0] + 1j * real_pairs[1]
    g = np.reshape(g, jacobian.x_shape)
    if getattr(g, "dtype", jacobian.x_dtype) != jacobian.x_dtype:
        g = g.astype(jacobian.x_dtype)
    return g


def _real_pairing(ct, part):
    if np.iscomplexobj(primal(ct)) or np.iscomplexobj(primal(part)):
        return np.real(np.conjugate(ct) @ part)
    return ct @ part


reverse_rules.add(_join, (), _join_rule, masked=True)
# Only ever bound at the reverse level that traces x (forwarddiff checks it), never at a
# forward level: a forward level above it differentiates forwarddiff's own runs instead.
reverse_only(_join)
