"""Implicit parameters, as in Zygote: ``Params`` names arrays by identity, ``gradient(f, ps)``
returns ``Grads`` keyed by those same arrays.

NumPy operations on a plain ndarray never reach wengert, so while ``f`` runs each parameter
is replaced by its tracer wherever ``f`` can reach it — closure cells, the globals its code
names, lists, dicts, tuples, object attributes, the functions and methods it refers to — and
every reference is put back afterwards, also when ``f`` raises (see ``_Substitution``).
"""
import dataclasses
import types

import numpy as np

from .errors import DifferentiationError
from .tree import flatten


class Params:
    """The arrays to differentiate with respect to, remembered by identity."""

    def __init__(self, arrays):
        leaves = flatten(arrays)[0] if not isinstance(arrays, np.ndarray) else [arrays]
        self._arrays = []
        seen = set()
        for leaf in leaves:
            if isinstance(leaf, (float, complex, int)) and not isinstance(leaf, bool):
                raise DifferentiationError(
                    f"wg.Params cannot hold the Python number {leaf!r}: numbers have no "
                    "identity to find them by while the function runs. Keep it in a NumPy "
                    "array (np.array(x)), or differentiate explicitly: wg.gradient(f, x)."
                )
            if isinstance(leaf, np.ndarray) and leaf.dtype.kind in "fc" and id(leaf) not in seen:
                seen.add(id(leaf))
                self._arrays.append(leaf)

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self):
        return len(self._arrays)

    def __contains__(self, array):
        return any(p is array for p in self._arrays)

    def __repr__(self):
        return f"Params({len(self)} arrays: {[p.shape for p in self._arrays]})"


class Grads:
    """Gradients of ``Params``: ``gs[p]`` by the identity of ``p``; iterates ``(p, g)``."""

    def __init__(self, params, grads):
        self._params = list(params)
        self._grads = {id(p): g for p, g in zip(self._params, grads)}

    def __getitem__(self, array):
        try:
            return self._grads[id(array)]
        except KeyError:
            raise KeyError("that array is not one of these Params (lookup is by identity)") from None

    def __iter__(self):
        return ((p, self._grads[id(p)]) for p in self._params)

    def __len__(self):
        return len(self._params)

    def _combine(self, other, op):
        if isinstance(other, Grads):
            return Grads(self._params, [op(g, other[p]) for p, g in self])
        return NotImplemented

    def __add__(self, other):
        return self._combine(other, np.add)

    def __sub__(self, other):
        return self._combine(other, np.subtract)

    def __mul__(self, scale):
        if isinstance(scale, Grads):
            return NotImplemented
        return Grads(self._params, [scale * g for _, g in self])

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __repr__(self):
        return f"Grads({len(self)} arrays)"


def update(ps, gs, step):
    """``p -= step * g`` in place for every parameter."""
    for p in ps:
        p -= step * gs[p]
    return ps


def gradient_with_params(f, args):
    """``withgradient`` where some of ``args`` are ``Params``: the others are passed to ``f``
    explicitly, and each ``Params`` gets a ``Grads`` in its position."""
    from .api import withgradient

    slots = [i for i, a in enumerate(args) if isinstance(a, Params)]
    explicit = [a for a in args if not isinstance(a, Params)]
    params = [list(args[i]) for i in slots]
    flat_params = [p for group in params for p in group]

    def f_of_everything(explicit_args, param_tracers):
        with _Substitution(f, dict(zip(map(id, flat_params), param_tracers))):
            return f(*explicit_args)

    value, (explicit_grads, param_grads) = withgradient(f_of_everything, explicit, flat_params)
    grads, it_explicit, it_params = [], iter(explicit_grads), iter(param_grads)
    for i, a in enumerate(args):
        if isinstance(a, Params):
            grads.append(Grads(a, [next(it_params) for _ in range(len(a))]))
        else:
            grads.append(next(it_explicit))
    if len(args) == 1:
        return value, grads[0]   # Zygote's style: gradient(f, ps) is the Grads itself
    return value, tuple(grads)


# ---------------------------------------------------------------------------------------------
# Finding the parameters wherever f can reach them
# ---------------------------------------------------------------------------------------------

# Objects that never hold parameters worth walking into.
_OPAQUE = (type, types.ModuleType, types.BuiltinFunctionType, str, bytes, int, float, complex,
           bool, type(None), np.ufunc, np.generic)


class _Substitution:
    """While active, every reference that ``f`` can reach to an array in ``replacements``
    (id → tracer) points to the tracer instead; leaving puts each one back, in reverse."""

    def __init__(self, f, replacements):
        self.f = f
        self.replacements = replacements
        self.undo = []
        self.seen = {}

    def __enter__(self):
        try:
            self.visit(self.f)
        except BaseException:
            self.restore()
            raise
        return self

    def __exit__(self, *exc):
        self.restore()
        return False

    def restore(self):
        while self.undo:
            self.undo.pop()()

    def visit(self, obj):
        """Substitute inside ``obj``; returns a replacement for ``obj`` itself, or None."""
        key = id(obj)
        if key in self.replacements:
            return self.replacements[key]
        if key in self.seen or isinstance(obj, _OPAQUE + (np.ndarray, Params, Grads)):
            return self.seen.get(key)
        self.seen[key] = None
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                self._set(obj, i, item, self.visit(item), list.__setitem__)
        elif isinstance(obj, dict):
            for k, item in list(obj.items()):
                self._set(obj, k, item, self.visit(item), dict.__setitem__)
        elif isinstance(obj, tuple):
            items = [self.visit(item) for item in obj]
            if any(r is not None for r in items):
                rebuilt = [r if r is not None else item for r, item in zip(items, obj)]
                new = type(obj)(*rebuilt) if hasattr(type(obj), "_fields") else type(obj)(rebuilt)
                self.seen[key] = new
                return new
        elif isinstance(obj, types.FunctionType):
            self._visit_function(obj)
        elif isinstance(obj, types.MethodType):
            self.visit(obj.__self__)
            self._visit_function(obj.__func__)
        else:
            self._visit_attributes(obj)
        return None

    def _set(self, container, key, old, new, setter):
        if new is not None:
            setter(container, key, new)
            self.undo.append(lambda: setter(container, key, old))

    def _visit_function(self, fn):
        for cell in fn.__closure__ or ():
            try:
                content = cell.cell_contents
            except ValueError:   # an empty cell: a name not bound yet
                continue
            self._set(cell, "cell_contents", content, self.visit(content), setattr)
        names = _global_names(fn.__code__)
        g = fn.__globals__
        for name in names:
            if name in g:
                self._set(g, name, g[name], self.visit(g[name]), dict.__setitem__)
        for default in fn.__defaults__ or ():
            self.visit(default)
        wrapped = getattr(fn, "__wrapped__", None)
        if wrapped is not None:
            self.visit(wrapped)

    def _visit_attributes(self, obj):
        attributes = getattr(obj, "__dict__", None)
        if isinstance(attributes, dict):
            for name, value in list(attributes.items()):
                self._set(attributes, name, value, self.visit(value), dict.__setitem__)
        slots = [s for cls in type(obj).__mro__ for s in getattr(cls, "__slots__", ())]
        if dataclasses.is_dataclass(obj) and not attributes:
            slots = [f.name for f in dataclasses.fields(obj)]
        for name in slots:
            if isinstance(name, str) and hasattr(obj, name) and name not in ("__dict__",
                                                                              "__weakref__"):
                value = getattr(obj, name)
                self._set(obj, name, value, self.visit(value), object.__setattr__)


def _global_names(code):
    """The global names a code object and the code nested in it (lambdas, comprehensions)
    may read."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names
