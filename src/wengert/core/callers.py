"""Which library function turned a tracer into a plain array, for the error that follows.

SciPy converts its arguments with ``np.asarray``, which no NumPy protocol lets wengert
intercept: the conversion reaches the tracer's ``__array__``, far from the call the user wrote.
The frames above it still say which call that was. Only the error path pays for this walk.
"""
import sys
import types

from ..errors import WAYS_OUT
from ..registry import reached


def library_caller(frame):
    """``(public module, function name)`` of the outermost public SciPy function in the run
    of SciPy and NumPy frames directly above ``frame`` (the one the user's code called), else
    None."""
    found = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("scipy"):
            # A frame of a public function, or of a decorator's wrapper holding one (SciPy's
            # array-API wrappers convert the arguments before the function itself runs).
            candidates = [(module, frame.f_code.co_name)] + [
                (v.__module__, v.__name__) for v in frame.f_locals.values()
                if isinstance(v, types.FunctionType) and v.__module__.startswith("scipy")]
            for owner, name in candidates:
                public = owner.split("._")[0]
                namespace = sys.modules.get(public)
                if callable(getattr(namespace, name, None)):
                    found = public, name
                elif "self" in frame.f_locals:   # a method of a public object: norm.logpdf
                    instance = _public_name_of(namespace, frame.f_locals["self"])
                    if instance is not None:
                        found = public, f"{instance}.{name}"
        elif not module.startswith("numpy") and not module.startswith("wengert.core"):
            break   # the user's code, or a rule of ours: the call we want is below it
        frame = frame.f_back
    return found


def _public_name_of(namespace, obj):
    for key, value in vars(namespace).items() if namespace is not None else ():
        if value is obj and not key.startswith("_"):
            return key
    return None


def unreached_call_message(frame):
    """What to say when a SciPy function met a tracer through ``np.asarray``; None when the
    conversion did not come from SciPy."""
    caller = library_caller(frame)
    if caller is None:
        return None
    module, name = caller
    public = f"{module}.{name}"
    attribute = sys.modules.get(module)
    for part in name.split("."):
        attribute = getattr(attribute, part, None)
    if getattr(attribute, "__wrapped__", None) in reached:
        return (
            f"{public} was called on a traced value through a name bound before wengert was "
            f"imported (`from {module} import {name.split('.')[0]}` ran first), so wengert cannot see the "
            f"call. Import wengert before that line, or call it through its module "
            f"({public}).")
    return (f"{public} has no derivative rule in wengert, and it converts its arguments "
            f"with np.asarray, which would drop the derivative. {WAYS_OUT}")
