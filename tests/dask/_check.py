"""Derivatives of functions of Dask arrays, checked against central finite differences of the
same function on NumPy copies, in both modes; every result must be a lazy Dask array."""
import numpy as np

import wengert as wg

da = __import__("pytest").importorskip("dask.array")


def numpy_copy(x):
    return x.compute() if isinstance(x, da.Array) else x


def finite_difference(f, args, position, direction, eps=1e-6):
    """d/dt f(args with args[position] + t·direction) at t = 0, computed."""
    plain = [numpy_copy(a) for a in args]

    def at(t):
        moved = list(args)
        moved[position] = plain[position] + t * direction
        if isinstance(args[position], da.Array):   # the same chunks, computed at once
            moved[position] = da.from_array(moved[position], chunks=args[position].chunks)
        return np.asarray(numpy_copy(f(*moved)))

    return (at(eps) - at(-eps)) / (2 * eps)


def check_dask(f, *args, rtol=1e-5, atol=1e-7, eps=1e-6, seed=0):
    """Reverse mode (a pullback of a random cotangent, paired with random directions) and
    forward mode (jvp along the same directions) of ``f`` at Dask ``args``."""
    rng = np.random.default_rng(seed)
    y, back = wg.pullback(f, *args)
    assert isinstance(y, da.Array), type(y)
    ybar = rng.standard_normal(y.shape).astype(y.dtype)
    cotangents = back(da.from_array(ybar))
    directions = [rng.standard_normal(np.shape(a)).astype(a.dtype) for a in args]
    for i, a in enumerate(args):
        if not isinstance(a, (da.Array, np.ndarray)) or a.dtype.kind != "f":
            continue
        expected = finite_difference(f, args, i, directions[i], eps)
        g = cotangents[i]
        assert type(g) is type(a), (i, type(g), type(a))
        np.testing.assert_allclose(np.sum(numpy_copy(g) * directions[i]),
                                   np.sum(ybar * expected), rtol=rtol, atol=atol)
        tangents = [np.zeros(np.shape(b)) if j != i else directions[i]
                    for j, b in enumerate(args)]
        tangents = [da.from_array(t) if isinstance(b, da.Array) else t
                    for t, b in zip(tangents, args)]
        y_f, dy = wg.jvp(f, tuple(args), tuple(tangents))
        assert isinstance(dy, da.Array), type(dy)
        np.testing.assert_allclose(dy.compute(), expected, rtol=rtol, atol=atol)
