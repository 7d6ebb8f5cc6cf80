"""einsum with any subscripts, in both modes.

The cotangent of operand k is itself one einsum: of the output cotangent with the other
operands (conjugated), onto operand k's subscripts. An index repeated within operand k (a
diagonal, 'ii') gets a fresh letter tied to the first by an identity matrix; an index only
operand k has is supplied by a vector of ones. Subscript parsing is cached.
"""
import functools
import string
from collections import Counter

import numpy as np

from ._helpers import (ZERO, add, conj, eye_like, forward, is_zero, ones_like_value, reverse,
                       shape_of, to_dense, unbroadcast)
from .products import operand, tangent_operand

_SUBLIST_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # integer order = ASCII order


def _sublist_to_subscripts(sublist):
    return "".join("..." if s is Ellipsis else _SUBLIST_LETTERS[s] for s in sublist)


def _einsum_call(args):
    """``(subscripts, operand positions in args)`` for both of einsum's call forms:
    ``einsum("ij,jk->ik", a, b)`` and ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if isinstance(args[0], str):
        return args[0], list(range(1, len(args)))
    positions = list(range(0, len(args) - 1, 2))
    inputs = ",".join(_sublist_to_subscripts(args[p + 1]) for p in positions)
    if len(args) % 2:
        return inputs + "->" + _sublist_to_subscripts(args[-1]), positions
    return inputs, positions


@functools.lru_cache(maxsize=512)
def _explicit_subscripts(subscripts, shapes):
    """``(inputs, output)``: one letter per axis of each operand, '...' replaced by spare
    letters (right-aligned across operands, as broadcasting aligns them) and the implicit
    output (broadcast axes, then the letters seen once, in ASCII order) written out."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, output = subscripts.partition("->")
    inputs = lhs.split(",")
    if not arrow:
        counts = Counter(lhs.replace(".", "").replace(",", ""))
        output = ("..." if "..." in lhs else "") + "".join(
            sorted(c for c, n in counts.items() if n == 1))
    spare = (c for c in string.ascii_letters if c not in subscripts)
    broadcast_ndim = max((len(shape) - len(s) + 3 for s, shape in zip(inputs, shapes)
                          if "..." in s), default=0)
    broadcast = "".join(next(spare) for _ in range(broadcast_ndim))

    def expand(s, ndim):
        extra = ndim - len(s) + 3
        return s.replace("...", broadcast[broadcast_ndim - extra:]) if "..." in s else s

    inputs = tuple(expand(s, len(shape)) for s, shape in zip(inputs, shapes))
    return inputs, output.replace("...", broadcast)


@functools.lru_cache(maxsize=512)
def _einsum_transpose(inputs, output, k, shape):
    """How to compute the cotangent of operand ``k`` with one einsum.

    Returns ``(subscripts, deltas, ones)``: the einsum runs over the output cotangent, the
    other operands, then identity matrices of the sizes in ``deltas`` and vectors of ones of
    the sizes in ``ones``. A letter repeated in operand ``k`` (a diagonal, 'ii') gets a fresh
    letter per repeat, tied to the first by an identity matrix, so that the result is zero off
    the diagonal; a letter only operand ``k`` has (summed away, 'ij->i') is supplied by a
    vector of ones, so that the result is constant along it.
    """
    target = inputs[k]
    spare = (c for c in string.ascii_letters if c not in "".join(inputs) + output)
    renamed, delta_terms = "", []
    for axis, c in enumerate(target):
        if c in renamed:
            fresh = next(spare)
            delta_terms.append((c + fresh, shape[axis]))
            c = fresh
        renamed += c
    supplied = set(output).union(*(inputs[j] for j in range(len(inputs)) if j != k))
    supplied.update("".join(term for term, _ in delta_terms))
    ones_terms = [(c, shape[axis]) for axis, c in enumerate(renamed) if c not in supplied]
    terms = [output] + [inputs[j] for j in range(len(inputs)) if j != k]
    terms += [term for term, _ in delta_terms] + [c for c, _ in ones_terms]
    return (",".join(terms) + "->" + renamed, tuple(size for _, size in delta_terms),
            tuple(size for _, size in ones_terms))


def _sum_to_shape(g, shape):
    """Sum the axes of ``g`` along which operand of ``shape`` (size 1 there) was broadcast."""
    axes = tuple(i for i, (m, n) in enumerate(zip(shape_of(g), shape)) if m != n)
    return np.sum(g, axis=axes, keepdims=True) if axes else g


def _einsum_cotangent(ct, operands, k, inputs, output, optimize):
    x = operands[k]
    subscripts, deltas, ones = _einsum_transpose(inputs, output, k, shape_of(x))
    others = [conj(op) for j, op in enumerate(operands) if j != k]
    # Boolean constants multiply without promoting float32 operands to float64.
    constants = ([eye_like(n, ct, dtype=bool) for n in deltas]
                 + [ones_like_value(ct, shape=n, dtype=bool) for n in ones])
    g = np.einsum(subscripts, ct, *others, *constants, optimize=optimize)
    return unbroadcast(x, _sum_to_shape(g, shape_of(x)))


@reverse(np.einsum)
def _einsum(needs, *args, optimize=False, **kwargs):
    out = np.einsum(*args, optimize=optimize, **kwargs)
    subscripts, positions = _einsum_call(args)
    operands = [operand(args[p]) for p in positions]

    def einsum_pullback(ct):
        inputs, output = _explicit_subscripts(
            subscripts, tuple(shape_of(op) for op in operands))
        grads = [ZERO] * len(args)
        for k, p in enumerate(positions):
            if needs[p]:
                grads[p] = _einsum_cotangent(ct, operands, k, inputs, output, optimize)
        return tuple(grads)

    return out, einsum_pullback


@forward(np.einsum)
def _einsum_forward(tangents, *args, optimize=False, **kwargs):
    out = np.einsum(*args, optimize=optimize, **kwargs)
    kwargs.pop("out", None)   # that array holds the value; each tangent term gets its own
    _, positions = _einsum_call(args)
    # Linear in each operand: one einsum per operand with a tangent, in its place.
    d = ZERO
    for p in positions:
        if not is_zero(tangents[p]):
            t = to_dense(tangent_operand(tangents[p], args[p]))
            d = add(d, np.einsum(*args[:p], t, *args[p + 1:], optimize=optimize, **kwargs))
    return out, d
