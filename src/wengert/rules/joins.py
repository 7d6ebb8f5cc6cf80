"""Joining and splitting: concatenate, stack and their variants, append; split and its variants.

A function that joins a list of arrays receives, for that list argument, a list of tangents
(``Zero`` for the constants in it) and gives, in reverse mode, a list of cotangents, one per
element. A function that splits an array returns a list of parts: its pushforward gives one
tangent per part, and its pullback receives one cotangent per part, ``Zero`` for the parts
that were not used.

np.block and np.compress have no rules of their own: they are differentiated through their
definitions by concatenate and take (see ``derived_through``).
"""
import numpy as np

from ..tangents import zeros_like
from ._helpers import (ZERO, dense, derived_through, forward, is_zero, reverse, shape_of,
                       to_dense, unbroadcast)
from .shapes import array_shape, axis_index


def _project(a, g):
    """``g`` with the dtype of ``a`` (real if ``a`` is real), for arguments of any kind."""
    if hasattr(a, "dtype") or isinstance(a, (int, float, complex)):
        return unbroadcast(a, g)
    return g


def dense_tangent(a, t):
    """The tangent ``t`` of argument ``a`` as an array: zeros for a constant (``Zero``), and
    a list of them for a list argument, whose tangent is a list (``Zero`` for constants)."""
    if type(t) is list:
        return [dense_tangent(x, s) for x, s in zip(a, t)]
    return zeros_like(a) if is_zero(t) else to_dense(t)


# ---------------------------------------------------------------------------------------------
# Joining: the cotangent is split back into one piece per joined array
# ---------------------------------------------------------------------------------------------


def _concatenate_layout(shapes, axis=0, *args, **kwargs):
    if axis is None:
        return [(int(np.prod(s, dtype=np.int64)),) for s in shapes], 0
    return shapes, axis_index(axis, len(shapes[0]))


def _stack_layout(shapes, axis=0, *args, **kwargs):
    axis = axis_index(axis, len(shapes[0]) + 1)
    return [s[:axis] + (1,) + s[axis:] for s in shapes], axis


def _at_least(shape, ndim):
    """The shape np.atleast_{ndim}d gives an array of ``shape``."""
    if len(shape) >= ndim:
        return shape
    if ndim == 3:
        return {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)]
    return (1,) * (ndim - len(shape)) + shape


def _hstack_layout(shapes, *args, **kwargs):
    shapes = [_at_least(s, 1) for s in shapes]
    return shapes, 0 if len(shapes[0]) == 1 else 1


def _vstack_layout(shapes, *args, **kwargs):
    return [_at_least(s, 2) for s in shapes], 0


def _dstack_layout(shapes, *args, **kwargs):
    return [_at_least(s, 3) for s in shapes], 2


def _column_stack_layout(shapes, *args, **kwargs):
    return [s if len(s) >= 2 else (int(np.prod(s, dtype=np.int64)), 1) for s in shapes], 1


def split_cotangent(ct, arrays, layout, *args, **kwargs):
    """The pieces of ``ct`` that came from each of ``arrays``, each shaped like its array.

    ``layout(shapes, *args, **kwargs)`` gives the shape each array had inside the joined
    result and the axis along which they were joined."""
    shapes = [tuple(array_shape(a)) for a in arrays]
    placed, axis = layout(shapes, *args, **kwargs)
    # Slices rather than np.split, which some array libraries (Dask) lack.
    ends = [int(e) for e in np.cumsum([s[axis] for s in placed])]
    before = (slice(None),) * (axis % len(placed[0]))
    pieces = [ct[before + (slice(end - s[axis], end),)] for s, end in zip(placed, ends)]
    return [_project(a, np.reshape(p, s)) for a, p, s in zip(arrays, pieces, shapes)]


def joining(fn, layout):
    """Declare ``fn(arrays, *args, **kwargs)``, which joins a list of arrays (forward mode
    joins their tangents the same way)."""
    def rule(needs, arrays, *args, **kwargs):
        out = fn(arrays, *args, **kwargs)

        def joining_pullback(ct):
            if type(arrays) in (list, tuple):
                cts = split_cotangent(ct, arrays, layout, *args, **kwargs)
            else:  # an array given as the sequence of its rows: join the rows' cotangents
                cts = np.stack(split_cotangent(ct, list(arrays), layout, *args, **kwargs))
            return (cts,) + (ZERO,) * len(args)

        return out, joining_pullback

    def frule(tangents, arrays, *args, **kwargs):
        return fn(arrays, *args, **kwargs), fn(dense_tangent(arrays, tangents[0]), *args,
                                               **kwargs)

    reverse(fn)(rule)
    forward(fn)(frule)


joining(np.concatenate, _concatenate_layout)  # also np.concat, the same function
joining(np.stack, _stack_layout)
joining(np.hstack, _hstack_layout)
joining(np.vstack, _vstack_layout)
joining(np.dstack, _dstack_layout)
joining(np.column_stack, _column_stack_layout)


@reverse(np.append)
def _append(needs, arr, values, axis=None):
    out = np.append(arr, values, axis=axis)

    def append_pullback(ct):
        d_arr, d_values = split_cotangent(ct, [arr, values], _concatenate_layout, axis)
        return (d_arr if needs[0] else ZERO, d_values if needs[1] else ZERO) + (ZERO,) * (
            len(needs) - 2)

    return out, append_pullback


@forward(np.append)
def _append_forward(tangents, arr, values, axis=None):
    return np.append(arr, values, axis=axis), np.append(
        dense_tangent(arr, tangents[0]), dense_tangent(values, tangents[1]), axis=axis)


@derived_through(np.block)
def _block(arrays):
    """np.block as the concatenations it stands for: the innermost lists join along the last
    axis, the lists holding them along the axis before, and so on outwards; each block first
    gets leading 1s up to the result's number of dimensions (as np.atleast_nd gives)."""
    depth, blocks = _block_structure(arrays)
    ndim = max([depth] + [len(shape_of(b)) for b in blocks])

    def assemble(part, level):
        if not isinstance(part, list):
            shape = tuple(shape_of(part))
            return np.reshape(part, (1,) * (ndim - len(shape)) + shape)
        return np.concatenate([assemble(p, level + 1) for p in part], axis=level - depth)

    return assemble(arrays, 0)


def _block_structure(arrays):
    """``(depth, blocks)`` of np.block's nested lists, refusing what np.block refuses."""
    blocks, depths = [], set()

    def walk(part, depth):
        if type(part) is tuple:
            raise TypeError("np.block arranges blocks with lists only, not tuples.")
        if not isinstance(part, list):
            blocks.append(part)
            depths.add(depth)
            return
        if not part:
            raise ValueError("np.block: lists cannot be empty.")
        for p in part:
            walk(p, depth + 1)

    walk(arrays, 0)
    if len(depths) > 1:
        raise ValueError(f"np.block: list depths are mismatched (found {sorted(depths)}).")
    return depths.pop(), blocks


@derived_through(np.compress)
def _compress(condition, a, axis=None):
    """The slices ``condition`` selects, as np.take of their indices. NumPy reads the
    condition as booleans, as far as it reaches (a short one selects from the first slices)."""
    if np.ndim(condition) != 1:
        raise ValueError("np.compress: condition must be a 1-d array.")
    return np.take(a, np.flatnonzero(condition), axis=axis)


# ---------------------------------------------------------------------------------------------
# Splitting: several outputs; the pullback joins their cotangents (Zero for unused parts)
# ---------------------------------------------------------------------------------------------


def splitting(fn, join):
    """Declare ``fn(x, *args, **kwargs)``, which returns a list of parts of ``x``;
    ``join(dense_cts, x, *args, **kwargs)`` puts their cotangents back together."""
    def rule(needs, x, *args, **kwargs):
        parts = fn(x, *args, **kwargs)

        def splitting_pullback(cts):
            g = join([dense(c, p) for c, p in zip(cts, parts)], x, *args, **kwargs)
            return (unbroadcast(x, g),) + (ZERO,) * len(args)

        return parts, splitting_pullback

    def frule(tangents, x, *args, **kwargs):
        # One tangent per part: the tangent split the same way.
        return fn(x, *args, **kwargs), fn(to_dense(tangents[0]), *args, **kwargs)

    reverse(fn)(rule)
    forward(fn)(frule)


def _join_along(axis_of):
    def join(cts, x, *args, **kwargs):
        return np.concatenate(cts, axis=axis_of(len(shape_of(x)), *args, **kwargs))
    return join


def _split_axis(ndim, indices_or_sections, axis=0):
    return axis


splitting(np.split, _join_along(_split_axis))
splitting(np.array_split, _join_along(_split_axis))
splitting(np.hsplit, _join_along(lambda ndim, sections: 1 if ndim > 1 else 0))
splitting(np.vsplit, _join_along(lambda ndim, sections: 0))
splitting(np.dsplit, _join_along(lambda ndim, sections: 2))
if hasattr(np, "unstack"):
    splitting(np.unstack, lambda cts, x, *, axis=0: np.stack(cts, axis=axis))

