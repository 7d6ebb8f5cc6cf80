"""CuPy arrays: their record in the table of array types, loaded when ``cupy`` is.

CuPy implements NumPy's protocols and functions with NumPy's signatures, so the rules run on
it unchanged; the record says how to make its constants and how to place values at an index
(``cupyx.scatter_add``: repeated positions add up). CuPy arrays are mutable, so cotangents
are accumulated in place as NumPy's are. No selection mark: every cotangent is masked where a
partial may be infinite. SciPy's functions convert their arguments to NumPy arrays, which CuPy
refuses with a TypeError: the record's ``refusal`` says so, naming the function.
"""
import cupy
import cupyx

from ..arraytypes import ArrayType, register_array_type


def _placed(shape, dtype, index, values):
    dense = cupy.zeros(shape, dtype)
    cupyx.scatter_add(dense, index, values)
    return dense


def _refusal(name):
    return (f"{name} cannot run on CuPy arrays: SciPy converts its arguments to NumPy arrays, "
            "which CuPy refuses (its arrays live on the device). Write the step with NumPy's "
            "functions, which CuPy implements (np.linalg.solve, np.linalg.cholesky, "
            "np.fft.fft, ...), or copy the array to the host first (cupy.asnumpy(x)) to "
            "differentiate it as a NumPy array.")


CUPY = register_array_type(ArrayType(
    cupy.ndarray, in_place=True,
    asarray=lambda value, dtype=None: cupy.asarray(value, dtype=dtype),
    zeros=cupy.zeros, ones=cupy.ones, full=cupy.full, eye=cupy.eye, tri=cupy.tri,
    arange=cupy.arange, placed=_placed, refusal=_refusal))
