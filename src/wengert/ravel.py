"""``ravel``: every differentiable leaf of a tree in one vector, and the way back, so that
vector-only tools (scipy.optimize, a Hessian over several arguments) can work on a model."""
import numpy as np

from .tree import flatten, is_differentiable, unflatten


def ravel(tree):
    """Every floating-point leaf of a tree in one vector, and the way back.

    For tools that work on vectors only: ``scipy.optimize``, a Hessian over several
    arguments, a line search over a whole model.

    Parameters
    ----------
    tree : array, number, or a list, tuple, dict, namedtuple, dataclass or registered class
        of them (nested). Traced leaves stay traced, so ``ravel`` works inside a
        transformation.

    Returns
    -------
    vector : ndarray
        The float and complex leaves (arrays and numbers), each flattened, joined in tree
        order. An empty float64 vector if there are none.
    unravel : callable
        ``unravel(v)`` builds a tree like ``tree`` from a vector like ``vector``: each leaf
        with its shape and dtype (a Python float stays a float). Leaves with no tangent
        (ints, strings, flags) are kept as they are.

    Examples
    --------
    >>> import numpy as np, wengert as wg
    >>> vector, unravel = wg.ravel({"W": np.ones((2, 2)), "b": 0.5, "name": "layer"})
    >>> print(vector)
    [1.  1.  1.  1.  0.5]
    >>> tree = unravel(2 * vector)
    >>> print(tree["b"], tree["name"])
    1.0 layer
    """
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
            elif issubclass(kind, np.generic):
                piece = piece[()]   # a NumPy scalar comes back a NumPy scalar, not a 0-d array
            rebuilt[i] = piece
            start = end
        return unflatten(treedef, rebuilt)

    return vector, unravel
