"""stop_gradient and checkpoint: two ways to control what the reverse pass keeps."""
import functools

import numpy as np

from .reverse_api import pullback
from .core.levels import Tracer, primal
from .forward_api import jvp
from .primitives import primitive
from .reach import call_substituted, reachable_tracers
from .registry import frule, rrule
from .tangents import NO_TANGENT, is_zero
from .tree import flatten, unflatten


def stop_gradient(x):
    """``x``'s value, with no tangent at any level: a constant for every transformation.

    Parameters
    ----------
    x : array, number or tree of them
        A value that may be traced (leaves of a tree are handled one by one).

    Returns
    -------
    The same value, untraced; ``x`` itself where nothing in it is traced. An array taken out
    of a traced value is a read-only view of what the derivative was recorded with: write into
    ``wg.stop_gradient(x).copy()`` instead, so that no write can change a derivative.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> x = np.array([1.0, 2.0])
    >>> print(wg.gradient(lambda x: np.sum(x * wg.stop_gradient(x)), x)[0])
    [1. 2.]
    """
    leaves, treedef = flatten(x)
    return unflatten(treedef, [_read_only(primal(v)) if isinstance(v, Tracer) else v
                               for v in leaves])


def _read_only(value):
    """A read-only view of a traced value's array (the tape saved that array)."""
    if isinstance(value, np.ndarray):
        value = value.view()
        value.flags.writeable = False
    return value


class _Captured:
    """The function a checkpointed call runs (``f`` with its keyword arguments bound) and the
    traced values it closes over (its closure, globals, attributes, implicit parameters,
    keyword values), with the objects each holds the place of. A plain leaf for AD: the
    tracers ride along as an explicit argument of the call instead."""

    __slots__ = ("fn", "originals")

    def __init__(self, fn, originals):
        self.fn = fn
        self.originals = originals     # [(tracer, [objects it stands for])]

    def pairs(self, values):
        """Point every reference to a captured tracer (or to what it stands for) at the
        matching entry of ``values``."""
        return [(old, value) for (tracer, stood_for), value in zip(self.originals, values)
                for old in (tracer, *stood_for)]


def checkpoint(f):
    """``f``, keeping none of its intermediates for the reverse pass.

    The checkpointed function computes the same values and derivatives as ``f`` (both modes,
    any order). Under reverse mode only its arguments are kept; its pullback runs ``f`` again
    (under a fresh pullback) when the cotangent arrives, so the memory for ``f``'s
    intermediates is held only while its own reverse pass runs, at the price of one more
    evaluation of ``f``. Checkpoint the segments of a long chain.

    Traced values that ``f`` closes over rather than takes as arguments (closures, implicit
    parameters) become explicit inputs of the checkpointed call, so they get their
    gradients from the recomputation too. Keyword arguments are bound into ``f`` the same
    way: plain ones are constants, traced ones are found and differentiated like a closure's.
    (Every checkpointed function shares one primitive: ``f`` rides in its first argument.)

    Parameters
    ----------
    f : callable
        The function to checkpoint.

    Returns
    -------
    callable
        A function with ``f``'s signature, name and docstring.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> @wg.checkpoint
    ... def block(h):
    ...     return np.tanh(h) * 2.0
    >>> print(wg.gradient(lambda h: np.sum(block(block(h))), np.zeros(2))[0])
    [4. 4.]
    """
    @functools.wraps(f)
    def checkpointed(*args, **kwargs):
        # A partial's keywords are among the references the walk follows and substitutes.
        fn = functools.partial(f, **kwargs) if kwargs else f
        originals = reachable_tracers(fn)
        tracers = tuple(t for t, _ in originals)
        return _checkpointed_call(_Captured(fn, originals), tracers, *args)

    return checkpointed


def _with_values(captured, values):
    """The checkpointed function as a function of the captured values and its arguments."""
    def f_of_captured(values, *args):
        return call_substituted(captured.fn, captured.pairs(values), args)
    return f_of_captured


@primitive
def _checkpointed_call(captured, values, *args):
    # No rule applies here (no level traces the call): the captured tracers are f's own.
    return captured.fn(*args)


@rrule(_checkpointed_call)
def _checkpointed_rrule(captured, values, *args):
    # The arguments are this level's values, so f runs untraced here: nothing is kept.
    run = _with_values(captured, values)

    def checkpointed_pullback(ct):
        cts = pullback(run, values, *args)[1](ct)
        return (NO_TANGENT, *cts)

    # Untraced, a write of f into an argument or a captured array (x[i] = v) would change
    # it in place, and it is the value of a tracer (maybe the caller's own array, and the
    # recomputation reads it again): this run gets copies.
    return run(_copies(values), *_copies(args)), checkpointed_pullback


def _copies(arrays):
    return tuple(a.copy() if type(a) is np.ndarray else a for a in arrays)


@frule(_checkpointed_call)
def _checkpointed_frule(*tangents_and_args):
    half = len(tangents_and_args) // 2
    captured, values, *args = tangents_and_args[half:]
    _, d_values, *d_args = tangents_and_args[:half]
    run = _with_values(captured, values)
    return jvp(run, (values, *args), (_dense(d_values, values), *d_args))


def _dense(tangents, values):
    """Tangents of the captured values, a zero array where one carries none here."""
    if is_zero(tangents) or tangents is None:
        return tuple(np.zeros_like(primal(v)) for v in values)
    return tuple(np.zeros_like(primal(v)) if t is None or is_zero(t) else t
                 for t, v in zip(tangents, values))
