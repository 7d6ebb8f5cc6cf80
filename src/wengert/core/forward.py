"""The forward level: dual tracers carrying a tangent beside their value."""
import numpy as np

from ..registry import forward_rules
from ..errors import DifferentiationError
from .protocol import ArrayMethods
from ..arraytypes import without_mark
from ..tangents import NO_TANGENT, ZERO, Indexed, zero_for_none
from ..tree import unflatten_tangent
from .bind import _ATOMS, TreeSpec, run_without_rule, split_args
from .levels import Level, Tracer
from .aliasing import kept
from . import staging


class ForwardTracer(ArrayMethods, Tracer):
    __slots__ = ("_tangent",)

    def __init__(self, value, level, tangent):
        self._value = value
        self._level = level
        self._tangent = tangent


def _tangent_of(tracer):
    return tracer._tangent


class ForwardLevel(Level):
    __slots__ = ()

    def new_input(self, value, tangent):
        if staging.tracing():   # wg.compile: see ReverseLevel.new_input
            value, tangent = (staging.lift_constant(v) if type(v) is np.ndarray else v
                              for v in (value, tangent))
        # The program may write into its own tracers later: the level keeps its own objects.
        return ForwardTracer(kept(value), self, kept(tangent))

    def constant(self, value):
        """A tracer of this level with no tangent (see ReverseLevel.constant)."""
        return ForwardTracer(value, self, ZERO)

    def process(self, fn, args, kwargs):
        primals = []
        tangents = []
        for a in args:
            if isinstance(a, Tracer):
                if a._level is self:
                    primals.append(a._value)
                    tangents.append(a._tangent)
                    continue
            elif type(a) not in _ATOMS:
                primals, tangents = split_args(args, self, _tangent_of)
                tangents = [_structured_tangent(t) for t in tangents]
                break
            primals.append(a)
            tangents.append(ZERO)
        if all(t is ZERO or t is NO_TANGENT for t in tangents):
            # Nothing to carry at this level: the call belongs to the levels outside.
            return fn(*primals, **kwargs)
        rule = forward_rules.generic.get(fn) or forward_rules.lookup(fn, primals)
        if rule is None:
            return run_without_rule(fn, args, kwargs, mode="forward")
        if rule.masked:
            y, dy = rule.impl(tangents, *primals, **kwargs)
        else:
            # A user's rule sees dense tangents (or wg.Zero()), never the library's sparse ones.
            y, dy = rule.impl(*[_user_tangent(t) for t in tangents], *primals, **kwargs)
            dy = zero_for_none(dy)
        return self.wrap(y, dy)

    def write_into(self, fn, x, index, v):
        # See ReverseLevel.write_into: x keeps its (written) value and takes the tangent.
        if type(v) is ForwardTracer:
            tangents = (x._tangent, ZERO, v._tangent)
            v = v._value
        else:
            tangents = (x._tangent, ZERO, ZERO)
        _, x._tangent = forward_rules.lookup(fn, ()).impl(tangents, x._value, index, v)

    def wrap(self, y, dy):
        if dy is ZERO or dy is NO_TANGENT:
            return y
        if isinstance(y, (tuple, list)) and not isinstance(dy, (tuple, list)):
            raise DifferentiationError(
                "A forward rule returned several outputs but a single tangent.")
        if isinstance(y, (tuple, list)):
            items = [self.wrap(v, t) for v, t in zip(y, dy)]
            return type(y)(*items) if hasattr(type(y), "_fields") else type(y)(items)
        return ForwardTracer(y, self, dy)


def _user_tangent(t):
    if isinstance(t, Indexed):
        t = t.to_dense()
        return without_mark(t)
    if type(t) is list:
        return [_user_tangent(x) for x in t]
    return t


def _structured_tangent(spec):
    """split_args gives None for constants; forward rules want Zero there, and a tree of
    tangents for a structured argument."""
    if spec is None:
        return ZERO
    if type(spec) is list:
        return [ZERO if s is None else s for s in spec]
    if isinstance(spec, TreeSpec):
        leaves = [ZERO if s is None else s for s in spec.leaf_specs]
        return unflatten_tangent(spec.treedef, leaves)
    return spec


