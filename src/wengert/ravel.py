"""``ravel``: every differentiable leaf of a tree in one vector, and the way back, so that
vector-only tools (scipy.optimize, a Hessian over several arguments) can work on a model."""
import numpy as np

from .tree import flatten, is_differentiable, unflatten


def ravel(tree):
    """``(vector, unravel)``: the floating-point leaves of ``tree`` (arrays and numbers), each
    flattened and joined in tree order, and a function mapping such a vector back to a tree
    like ``tree``. Leaves with no tangent (ints, strings, flags) are kept as they are."""
    leaves, treedef = flatten(tree)
    moving = [i for i, leaf in enumerate(leaves) if is_differentiable(leaf)]
    shapes = [np.shape(leaves[i]) for i in moving]
    sizes = [int(np.prod(shape)) for shape in shapes]
    kinds = [type(leaves[i]) for i in moving]
    dtypes = [np.result_type(leaves[i]) for i in moving]
    # np.concatenate, not np.array: leaves may be traced values.
    pieces = [np.reshape(leaves[i], (-1,)) for i in moving]
    # No differentiable leaf: no array to take a kind from, so NumPy's empty vector.
    vector = np.concatenate(pieces) if pieces else np.zeros(0)
    ends = np.cumsum(sizes).tolist()

    def unravel(v):
        rebuilt = list(leaves)
        start = 0
        for i, shape, end, kind, dtype in zip(moving, shapes, ends, kinds, dtypes):
            piece = np.reshape(v[start:end], shape)
            if isinstance(piece, np.ndarray) and piece.dtype != dtype:
                piece = piece.astype(dtype)   # a float32 leaf comes back float32
            if kind is float or kind is complex:
                piece = kind(piece) if isinstance(piece, np.ndarray) else piece[()]
            rebuilt[i] = piece
            start = end
        return unflatten(treedef, rebuilt)

    return vector, unravel
