"""CuPy arrays: their record in the table of array types, loaded when ``cupy`` is.

CuPy implements NumPy's protocols and functions with NumPy's signatures, so the rules run on
it unchanged; the record says how to make its constants and how to place values at an index
(``cupyx.scatter_add``: repeated positions add up). CuPy arrays are mutable, so cotangents
are accumulated in place as NumPy's are. No selection mark: every cotangent is masked where a
partial may be infinite.
"""
import cupy
import cupyx

from ..arraytypes import ArrayType, register_array_type


def _placed(shape, dtype, index, values):
    dense = cupy.zeros(shape, dtype)
    cupyx.scatter_add(dense, index, values)
    return dense


CUPY = register_array_type(ArrayType(
    cupy.ndarray, in_place=True,
    asarray=lambda value, dtype=None: cupy.asarray(value, dtype=dtype),
    zeros=cupy.zeros, ones=cupy.ones, full=cupy.full, eye=cupy.eye, tri=cupy.tri,
    arange=cupy.arange, placed=_placed))
