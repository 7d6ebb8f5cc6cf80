"""stop_gradient and checkpoint: two ways to control what the reverse pass keeps."""
from .core.levels import Tracer, primal
from .tree import flatten, unflatten


def stop_gradient(x):
    """``x``'s value with no tangent at any level (trees of values too)."""
    leaves, treedef = flatten(x)
    return unflatten(treedef, [primal(v) if isinstance(v, Tracer) else v for v in leaves])


def checkpoint(f):
    """``f`` that keeps no intermediates for the reverse pass: its pullback runs ``f`` again
    (under a fresh pullback) when the cotangent arrives. Same gradients; memory for the
    intermediates of ``f`` is held only while its own reverse pass runs."""
    from .api import pullback
    from .forward_api import jvp
    from .registry import frule, primitive, rrule

    @primitive
    def checkpointed(*args):
        return f(*args)

    @rrule(checkpointed)
    def checkpointed_rrule(*args):
        # The arguments are this level's values, so f runs untraced here: nothing is kept.
        def checkpointed_pullback(ct):
            return pullback(f, *args)[1](ct)

        return f(*args), checkpointed_pullback

    @frule(checkpointed)
    def checkpointed_frule(*tangents_and_args):
        half = len(tangents_and_args) // 2
        return jvp(f, tangents_and_args[half:], tangents_and_args[:half])

    checkpointed.__wengert_name__ = f"wg.checkpoint({getattr(f, '__name__', 'f')})"
    return checkpointed
