"""The pieces of a program that the staging level records (core/staging.py): values
(``Ref``), calls (``Line``) and the decisions the traced run took (``Guard``)."""


class Ref:
    """A value of the program: an input (``x3``) or the result of a line (``t7``)."""

    __slots__ = ("number", "kind", "name")

    def __init__(self, number, kind="t", name=None):
        self.number = number
        self.kind = kind
        self.name = name   # an input's parameter name, where it has one of its own

    def __repr__(self):
        return self.name or f"{self.kind}{self.number}"


class Line:
    """``out = fn(*args, **kwargs)``; ``args`` and ``kwargs`` hold ``Ref``s where the call read
    staged values. ``effect``: the call writes into an argument (``out=``, ``np.add.at``, a
    write by index; True) or changes state outside the program (a random draw; ``DRAW``),
    so it is kept, in its place, even when nothing reads ``out``."""

    __slots__ = ("fn", "args", "kwargs", "out", "effect", "view_of", "value", "fresh", "errors",
                 "meta")

    def __init__(self, fn, args, kwargs, out, effect=False, view_of=None, value=None,
                 fresh=None, errors=None, meta=None):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.out = out
        self.effect = effect
        self.view_of = view_of   # the Ref whose memory ``out`` shares, if it is a view
        self.value = value       # the result, kept where the call read no staged value
        # (shape, dtype) of a result that is a new array of its own, writable, no view
        self.fresh = fresh
        # NumPy's floating-point error handling where it was not the caller's (the walk
        # silences the warnings of poles it masks): the program runs the line so too
        self.errors = errors
        self.meta = meta   # (type, shape, dtype) of an array or NumPy scalar result

    def replaced(self, **changes):
        """A copy of the line with some of its fields changed."""
        line = Line(self.fn, self.args, self.kwargs, self.out)
        for name in self.__slots__:
            setattr(line, name, changes.get(name, getattr(self, name)))
        return line


def refs_in(x, found):
    """``found`` with the Refs in ``x`` (a line's arguments: Refs in tuples, lists, dicts)."""
    kind = type(x)
    if kind is Ref:
        found.append(x)
    elif kind is tuple or kind is list:
        for v in x:
            refs_in(v, found)
    elif kind is dict:
        for v in x.values():
            refs_in(v, found)
    return found


class Guard:
    """A decision the traced run took on a staged value: ``kind(ref) == expected``, where
    ``kind`` is ``bool``, ``int``, ``float``, ``complex``, ``item`` or ``shape`` (of a
    result whose shape depends on values: ``x[x > 0]``, ``np.nonzero``)."""

    __slots__ = ("ref", "kind", "expected")

    def __init__(self, ref, kind, expected):
        self.ref = ref
        self.kind = kind
        self.expected = expected


# The ``effect`` of a line that draws random numbers.
DRAW = "draw"


def drawn_from(lines):
    """The random generators that ``lines`` draw from: all of them, and those drawn from
    before a guard (a run whose guard fails has drawn from them already)."""
    drawn, before = {}, {}
    for line in lines:
        if type(line) is Guard:
            before.update(drawn)
        elif line.effect is DRAW:
            drawn[id(line.fn.__self__)] = line.fn.__self__
    return list(drawn.values()), list(before.values())
