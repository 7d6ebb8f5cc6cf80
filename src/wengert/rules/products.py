"""Products: matmul, dot, vdot, inner, outer, tensordot, einsum, kron."""
import numpy as np

from ._helpers import ZERO, is_complex, reverse, shape_of, unbroadcast


def adjoint(a):
    """Conjugate transpose of the last two axes (just the transpose for real arrays)."""
    a = np.swapaxes(a, -1, -2)
    return np.conjugate(a) if is_complex(a) else a


def conj(a):
    return np.conjugate(a) if is_complex(a) else a


@reverse(np.matmul)
def _matmul(needs, a, b):
    out = np.matmul(a, b)

    def matmul_pullback(ct):
        a_shape, b_shape = shape_of(a), shape_of(b)
        if len(a_shape) == 1 and len(b_shape) == 1:
            return (ct * conj(b) if needs[0] else ZERO, conj(a) * ct if needs[1] else ZERO)
        # Promote vectors to matrices, as matmul itself does, and undo it at the end.
        a2 = np.reshape(a, (1,) + a_shape) if len(a_shape) == 1 else a
        b2 = np.reshape(b, b_shape + (1,)) if len(b_shape) == 1 else b
        ct2 = ct
        if len(a_shape) == 1:
            ct2 = np.expand_dims(ct2, -2)
        if len(b_shape) == 1:
            ct2 = np.expand_dims(ct2, -1)
        da = db = ZERO
        if needs[0]:
            da = np.reshape(unbroadcast(a2, np.matmul(ct2, adjoint(b2))), a_shape)
        if needs[1]:
            db = np.reshape(unbroadcast(b2, np.matmul(adjoint(a2), ct2)), b_shape)
        return da, db

    return out, matmul_pullback
