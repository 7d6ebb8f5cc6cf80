"""Indexing: x[i] and friends. Cotangents stay sparse (``Indexed``) until they must not."""
import operator

import numpy as np

from ..tangents import Indexed
from ..registry import primitive
from ._helpers import ZERO, Tracer, dtype_of, reverse, shape_of, unbroadcast


@reverse(operator.getitem)
def _getitem(needs, x, index):
    out = x[index]

    def getitem_pullback(ct):
        if isinstance(x, Tracer) or isinstance(ct, Tracer):
            return (scatter_add(np.zeros_like(x), index, ct), ZERO)
        return (Indexed(index, ct, shape_of(x), dtype_of(x)), ZERO)

    return out, getitem_pullback


@primitive
def scatter_add(base, index, values):
    """``base`` with ``values`` added at ``index`` (repeated indices accumulate); functional."""
    result = np.array(base, dtype=np.result_type(dtype_of(base), dtype_of(values)))
    np.add.at(result, index, values)
    return result


@reverse(scatter_add)
def _scatter_add(needs, base, index, values):
    out = scatter_add(base, index, values)

    def scatter_add_pullback(ct):
        values_ct = ct[index]
        return (ct, ZERO, np.reshape(values_ct, shape_of(values)) if
                shape_of(values_ct) != shape_of(values) else values_ct)

    return out, scatter_add_pullback


@reverse(np.where)
def _where(needs, condition, x=None, y=None):
    if x is None and y is None:
        return np.where(condition), None
    out = np.where(condition, x, y)

    def where_pullback(ct):
        # Each branch gets the cotangent only where it was taken: zeros elsewhere, never
        # ct * (something infinite), so the branch not taken cannot leak NaN.
        return (
            ZERO,
            unbroadcast(x, np.where(condition, ct, 0)) if needs[1] else ZERO,
            unbroadcast(y, np.where(condition, 0, ct)) if needs[2] else ZERO,
        )

    return out, where_pullback
