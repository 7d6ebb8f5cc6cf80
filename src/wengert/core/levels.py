"""Levels (one per transformation in flight) and the Tracer base class.

A level is an object with its own identity and a pointer to the level that was current when
it opened. ``order`` ranks levels by creation, so that bind can find the innermost level
among a call's tracers: a level opened later is inside every level still alive, whichever
thread opened it and whatever level was current then. Ranks never tie: a ``back`` called
under a forward level, or a derivative taken in a worker thread, opens a level that is
newer than the tracers it meets, so no argument order can settle a tie the wrong way.
"""
import contextlib
import contextvars
import gc
import itertools

import numpy as np

from ..arraytypes import TracedValue, concrete
from ..errors import DifferentiationError

_current = contextvars.ContextVar("wengert_level", default=None)
_creation = itertools.count(1)


class Level:
    __slots__ = ("parent", "order", "active", "refusing", "__weakref__")
    # The staging level (core/staging.py) records every call, non-differentiable ones too.
    records_everything = False

    def __init__(self, parent):
        self.parent = parent
        self.order = next(_creation)   # atomic under the GIL: threads never share a rank
        self.active = True
        # array types whose conversion the backward walk refuses (see refuse_conversion)
        self.refusing = ()

    def refuse_conversion(self, records):
        """Refuse converting arrays of ``records``' types (ArrayType.refusing_conversion)
        while this level walks back: a rule recorded here was given such arrays."""
        self.refusing = tuple(dict.fromkeys((*self.refusing, *records)))

    def process(self, fn, args, kwargs):  # pragma: no cover - every level overrides it
        raise NotImplementedError

    def write_into(self, fn, x, index, v):  # pragma: no cover - every level overrides it
        """``fn(x, index, v)`` (core/mutation.py's ``index_write``) recorded on the tracer
        ``x`` of this level itself: its value is written in place and it takes the step's
        place (tape index, tangent). ``v`` is plain or a tracer of this level."""
        raise NotImplementedError


def current_level():
    return _current.get()


def enter(level):
    """Make ``level`` current; returns the token that ``leave`` needs."""
    return _current.set(level)


def leave(token):
    _current.reset(token)


# The tape creates several small container objects per operation (closures, tuples, tracers),
# none of them in reference cycles, so the collector's young-generation passes while a
# transformation runs find nothing and cost 15-35% of the time of small operations. While one
# runs, the young generation is collected 100x less often; the old thresholds come back after.
_QUIET_THRESHOLD = 70_000


@contextlib.contextmanager
def quiet_collector():
    young, *older = gc.get_threshold()
    raised = young < _QUIET_THRESHOLD
    if raised:
        gc.set_threshold(_QUIET_THRESHOLD, *older)
    try:
        yield
    finally:
        if raised:
            gc.set_threshold(young, *older)


class Tracer(TracedValue):
    """A value seen by one level. ``_value`` may itself be a tracer of an outer level.

    ``_lineage`` is set only on tracers that take part in aliasing (core/aliasing.py): a
    view of another tracer, or a tracer that views were taken from. Ordinary tracers never
    set it, so it costs them nothing; the weak reference slot lets a base remember its views
    without keeping them alive."""

    __slots__ = ("_value", "_level", "_lineage", "__weakref__")


def closed_level_error(fn_name):
    return DifferentiationError(
        f"{fn_name} received a traced value whose transformation has already finished "
        "(a tracer escaped from wg.gradient/wg.pullback, e.g. stored in a global or returned "
        "inside an object). Return plain results from the differentiated function, or "
        "call wg.stop_gradient on values you keep."
    )


# Strip every level: the concrete value beneath any number of tracers.
primal = concrete


def scalar_if_scalar(like, traced):
    """``traced`` (a derivative computed under an outer level) as a scalar where ``like`` is
    one: NumPy turns scalars into 0-d arrays in places (np.where), and a derivative of a
    scalar should be a scalar at every nesting depth, as it is at the outermost."""
    value = primal(traced)
    if type(value) is np.ndarray and value.ndim == 0 and not isinstance(primal(like), np.ndarray):
        return traced[()]
    return traced
