"""Products: matmul, dot, vdot, inner, outer, tensordot, einsum, kron.

Every product here is linear in each factor, so the cotangent of one factor is the output
cotangent contracted with the conjugates of the other factors (for complex arrays the
pullback of a holomorphic map multiplies by the conjugate derivative). Products sit on the
hot path of most programs: each pullback computes only the cotangents that ``needs`` asks
for, and the rarer shapes reduce to ``tensordot`` or ``einsum``.
"""
import functools
import string
from collections import Counter

import numpy as np

from ._helpers import ZERO, is_complex, reverse, shape_of, unbroadcast


def adjoint(a):
    """Conjugate transpose of the last two axes (just the transpose for real arrays)."""
    a = np.swapaxes(a, -1, -2)
    return np.conjugate(a) if is_complex(a) else a


def _adjoint_2d(a):
    return np.conjugate(a.T) if is_complex(a) else a.T  # .T: cheaper than swapaxes


def conj(a):
    return np.conjugate(a) if is_complex(a) else a


def operand(x):
    """Lists and tuples (of numbers, or of tracers being differentiated) as the arrays the
    products read them as, so that their shapes are known."""
    return np.asarray(x) if type(x) in (list, tuple) else x


def fit(x, g):
    """Cotangent ``g`` (same size as ``x``) given the shape of ``x`` and its real or complex
    type."""
    if shape_of(g) != shape_of(x):
        g = np.reshape(g, shape_of(x))
    return unbroadcast(x, g)


def _scalar_product_pullback(needs, a, b):
    """Pullback of ``a * b`` where one factor is a scalar (np.dot and np.inner allow it)."""
    def scalar_product_pullback(ct):
        return (unbroadcast(a, ct * conj(b)) if needs[0] else ZERO,
                unbroadcast(b, conj(a) * ct) if needs[1] else ZERO)

    return scalar_product_pullback


# ---------------------------------------------------------------------------------------------
# matmul (and the np.dot cases that are matmul)
# ---------------------------------------------------------------------------------------------

def _matmul_pullback(needs, a, b):
    a_shape, b_shape = shape_of(a), shape_of(b)

    def matmul_pullback(ct):
        da = db = ZERO
        if len(a_shape) == 2 and len(b_shape) == 2:  # the common case, first
            if needs[0]:
                da = unbroadcast(a, np.matmul(ct, _adjoint_2d(b)))
            if needs[1]:
                db = unbroadcast(b, np.matmul(_adjoint_2d(a), ct))
            return da, db
        if len(a_shape) == 1 and len(b_shape) == 1:
            return (unbroadcast(a, ct * conj(b)) if needs[0] else ZERO,
                    unbroadcast(b, conj(a) * ct) if needs[1] else ZERO)
        # Promote vectors to matrices, as matmul itself does, and undo it at the end.
        a2 = np.reshape(a, (1,) + a_shape) if len(a_shape) == 1 else a
        b2 = np.reshape(b, b_shape + (1,)) if len(b_shape) == 1 else b
        ct2 = ct
        if len(a_shape) == 1:
            ct2 = np.expand_dims(ct2, -2)
        if len(b_shape) == 1:
            ct2 = np.expand_dims(ct2, -1)
        if needs[0]:
            da = fit(a, unbroadcast(a2, np.matmul(ct2, adjoint(b2))))
        if needs[1]:
            db = fit(b, unbroadcast(b2, np.matmul(adjoint(a2), ct2)))
        return da, db

    return matmul_pullback


@reverse(np.matmul)
def _matmul(needs, a, b):
    a, b = operand(a), operand(b)
    return np.matmul(a, b), _matmul_pullback(needs, a, b)


# ---------------------------------------------------------------------------------------------
# tensordot and the products that are tensordots: dot, inner, outer, kron
# ---------------------------------------------------------------------------------------------

def _tensordot_axes(axes, a_ndim, b_ndim):
    """np.tensordot's ``axes`` as two lists of non-negative axes, paired in order."""
    if np.ndim(axes) == 0:
        return list(range(a_ndim - axes, a_ndim)), list(range(axes))
    axes_a, axes_b = axes
    axes_a = [axes_a] if np.ndim(axes_a) == 0 else list(axes_a)
    axes_b = [axes_b] if np.ndim(axes_b) == 0 else list(axes_b)
    return [int(i) % a_ndim for i in axes_a], [int(i) % b_ndim for i in axes_b]


def _reorder(g, order):
    """``g`` whose axis ``i`` is axis ``order[i]`` of the target, with the target's order."""
    if order == sorted(order):
        return g
    return np.transpose(g, tuple(np.argsort(order)))


def _tensordot_pullback(needs, a, b, axes_a, axes_b):
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    free_a = [i for i in range(a_ndim) if i not in axes_a]
    free_b = [i for i in range(b_ndim) if i not in axes_b]
    ct_free_b = list(range(len(free_a), len(free_a) + len(free_b)))

    def tensordot_pullback(ct):
        da = db = ZERO
        if needs[0]:
            # Contracting ct's b-axes with b leaves a's free axes, then a's contracted axes in
            # the order of b's axes they were paired with.
            g = np.tensordot(ct, conj(b), (ct_free_b, free_b))
            da = fit(a, _reorder(g, free_a + [axes_a[j] for j in np.argsort(axes_b)]))
        if needs[1]:
            g = np.tensordot(conj(a), ct, (free_a, list(range(len(free_a)))))
            db = fit(b, _reorder(g, [axes_b[j] for j in np.argsort(axes_a)] + free_b))
        return (da, db) + (ZERO,) * (len(needs) - 2)  # np.tensordot's axes, if positional

    return tensordot_pullback


@reverse(np.tensordot)
def _tensordot(needs, a, b, axes=2):
    a, b = operand(a), operand(b)
    axes_a, axes_b = _tensordot_axes(axes, len(shape_of(a)), len(shape_of(b)))
    out = np.tensordot(a, b, (axes_a, axes_b))
    return out, _tensordot_pullback(needs, a, b, axes_a, axes_b)


@reverse(np.dot)
def _dot(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.dot(a, b)
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    if a_ndim == 0 or b_ndim == 0:
        return out, _scalar_product_pullback(needs, a, b)
    if a_ndim == 1 or b_ndim == 1 or (a_ndim == 2 and b_ndim == 2):
        return out, _matmul_pullback(needs, a, b)  # np.dot agrees with np.matmul here
    # N-D · M-D: a's last axis against b's second-to-last.
    return out, _tensordot_pullback(needs, a, b, [a_ndim - 1], [b_ndim - 2])


@reverse(np.inner)
def _inner(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.inner(a, b)
    a_ndim, b_ndim = len(shape_of(a)), len(shape_of(b))
    if a_ndim == 0 or b_ndim == 0:
        return out, _scalar_product_pullback(needs, a, b)
    return out, _tensordot_pullback(needs, a, b, [a_ndim - 1], [b_ndim - 1])


@reverse(np.outer)
def _outer(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.outer(a, b)
    a_shape, b_shape = shape_of(a), shape_of(b)

    def outer_pullback(ct):
        # Seen as a tensor of shape a.shape + b.shape, the outer product is a tensordot
        # over no axes.
        ct = np.reshape(ct, a_shape + b_shape)
        da = db = ZERO
        if needs[0]:
            da = fit(a, np.tensordot(ct, conj(b), len(b_shape)))
        if needs[1]:
            db = fit(b, np.tensordot(conj(a), ct, len(a_shape)))
        return da, db

    return out, outer_pullback


@reverse(np.vdot)
def _vdot(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.vdot(a, b)

    def vdot_pullback(ct):
        # out = Σ conj(a) b is anti-holomorphic in a: its cotangent is conj(ct) b.
        return (fit(a, conj(ct) * b) if needs[0] else ZERO,
                fit(b, ct * a) if needs[1] else ZERO)

    return out, vdot_pullback


@reverse(np.kron)
def _kron(needs, a, b):
    a, b = operand(a), operand(b)
    out = np.kron(a, b)
    ndim = max(len(shape_of(a)), len(shape_of(b)))
    a_shape = (1,) * (ndim - len(shape_of(a))) + shape_of(a)
    b_shape = (1,) * (ndim - len(shape_of(b))) + shape_of(b)
    # Output axis k is the pair (a axis k, b axis k), a's index the slower one.
    paired_shape = tuple(n for pair in zip(a_shape, b_shape) for n in pair)
    a_axes = list(range(0, 2 * ndim, 2))
    b_axes = list(range(1, 2 * ndim, 2))

    def kron_pullback(ct):
        ct = np.reshape(ct, paired_shape)
        da = db = ZERO
        if needs[0]:
            da = fit(a, np.tensordot(ct, conj(np.reshape(b, b_shape)), (b_axes, list(range(ndim)))))
        if needs[1]:
            db = fit(b, np.tensordot(conj(np.reshape(a, a_shape)), ct, (list(range(ndim)), a_axes)))
        return da, db

    return out, kron_pullback


# ---------------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------------

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
    constants = [np.eye(n, dtype=bool) for n in deltas] + [np.ones(n, dtype=bool) for n in ones]
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
