"""Constants made like a reference value (``arraytypes``): the helpers give NumPy's own results
for NumPy references (arrays, NumPy and Python scalars, tracers of any level), go through the
reference's record, and are the only way rules and the partial product make arrays."""
import ast
import pathlib

import numpy as np
import pytest

import wengert as wg
from wengert import arraytypes
from wengert.arraytypes import (arange_like, asarray_like, eye_like, full_like_value,
                                ones_like_value, tri_like, zeros_like_value)

REFERENCES = {
    "float64 array": np.arange(6.0).reshape(2, 3),
    "float32 array": np.arange(3, dtype=np.float32),
    "complex array": np.array([1 + 2j, 3j]),
    "complex64 array": np.array([1j], dtype=np.complex64),
    "0-d array": np.array(2.5),
    "float64 scalar": np.float64(2.5),
    "float32 scalar": np.float32(2.5),
    "complex scalar": np.complex128(1j),
    "Python float": 2.5,
    "Python complex": 1j,
    "Python int": 3,
}


def same(got, expected):
    """Identical results: type (a NumPy scalar is not a 0-d array), dtype, shape, values."""
    assert type(got) is type(expected), (type(got), type(expected))
    assert got.dtype == expected.dtype and np.shape(got) == np.shape(expected)
    assert np.array_equal(got, expected)


@pytest.fixture(params=list(REFERENCES), ids=list(REFERENCES))
def ref(request):
    return REFERENCES[request.param]


def test_zeros_ones_full_are_numpys_like_functions(ref):
    same(zeros_like_value(ref), np.zeros_like(ref))
    same(ones_like_value(ref), np.ones_like(ref))
    same(full_like_value(ref, 7), np.full_like(ref, 7))
    dtype = np.result_type(ref)
    same(zeros_like_value(ref, shape=(2, 1)), np.zeros((2, 1), dtype))
    same(ones_like_value(ref, shape=()), np.ones((), dtype))
    same(ones_like_value(ref, shape=())[()], np.ones((), dtype)[()])   # a NumPy scalar
    same(full_like_value(ref, 2, shape=4, dtype=np.float32), np.full(4, 2, np.float32))
    same(zeros_like_value(ref, shape=3, dtype=bool), np.zeros(3, bool))


def test_eye_tri_arange_asarray_are_numpys(ref):
    same(eye_like(3, ref), np.eye(3))                       # NumPy's float64 default
    same(eye_like(2, ref, columns=4, k=1, dtype=bool), np.eye(2, 4, 1, dtype=bool))
    same(eye_like(3, ref, dtype=np.complex64), np.eye(3, dtype=np.complex64))
    same(tri_like(3, ref), np.tri(3))
    same(tri_like(3, ref, k=-1, dtype=np.float32), np.tri(3, k=-1, dtype=np.float32))
    same(tri_like(2, ref, columns=3, dtype=bool), np.tri(2, 3, dtype=bool))
    same(arange_like(4, ref), np.arange(4))
    same(arange_like(4, ref, dtype=np.float32), np.arange(4, dtype=np.float32))
    same(asarray_like(ref), np.asarray(ref))
    same(asarray_like(0.5, ref, np.float32), np.asarray(0.5, np.float32))


def test_an_array_passes_through_asarray_like():
    x = np.ones(3)
    assert asarray_like(x) is x


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_a_tracer_reference_gives_the_constants_of_its_value(dtype):
    made = []

    def f(x):
        made.extend([zeros_like_value(x), ones_like_value(x, shape=()), full_like_value(x, 2),
                     eye_like(3, x), tri_like(3, x, dtype=dtype), arange_like(3, x),
                     asarray_like(x)])
        return np.real(np.sum(x * x))

    x = np.arange(1, 4).astype(dtype)
    expected = [np.zeros_like(x), np.ones((), dtype), np.full_like(x, 2), np.eye(3),
                np.tri(3, dtype=dtype), np.arange(3), x]
    for transform in (lambda: wg.gradient(f, x),   # and nested, below: a tracer of a tracer
                      lambda: wg.jvp(f, (x,), (np.ones_like(x),)),
                      lambda: wg.gradient(lambda x: np.real(wg.gradient(f, x)[0][0]), x)):
        made.clear()
        transform()
        assert len(made) == len(expected)
        assert not any(isinstance(m, arraytypes.TracedValue) for m in made)
        for got, want in zip(made, expected):
            same(got, want)


def test_a_constant_made_like_a_tracer_has_no_derivative():
    x = np.array([1.0, 2.0])
    (g,) = wg.gradient(lambda x: np.sum(x * ones_like_value(x) + eye_like(2, x) @ x), x)
    same(g, np.array([2.0, 2.0]))


def test_numpys_zeros_like_of_a_tracer_still_works():
    x = np.array([1.0, 2.0], dtype=np.float32)
    (g,) = wg.gradient(lambda x: np.sum(np.zeros_like(x) + np.ones_like(x) * x), x)
    same(g, np.ones(2, np.float32))
    _, dy = wg.jvp(lambda x: np.zeros_like(x) + x, (x,), (np.ones_like(x),))
    same(dy, np.ones(2, np.float32))


# --- the record decides -----------------------------------------------------------------------

class Duck:
    """An array of another library, answering NumPy's creation functions called with
    ``like=`` one of its arrays (NEP 35)."""

    def __init__(self, data):
        self.data = np.asarray(data)
        self.dtype, self.shape = self.data.dtype, self.data.shape

    def __array_function__(self, func, types, args, kwargs):
        kwargs.pop("like", None)
        return Duck(func(*args, **kwargs))


@pytest.fixture
def duck_record():
    saved = dict(arraytypes._records)
    record = arraytypes.ArrayType(Duck, in_place=False,
                                  zeros=lambda shape, dtype=float: ("zeros", shape, dtype))
    arraytypes._records[Duck] = record
    try:
        yield record
    finally:
        arraytypes._records.clear()
        arraytypes._records.update(saved)


def test_the_references_record_makes_the_array(duck_record):
    duck = Duck([1.0, 2.0])
    assert zeros_like_value(duck) == ("zeros", (2,), np.dtype(float))
    # Makers the record leaves out are NumPy's functions with like= the reference.
    eye = eye_like(2, duck, dtype=np.float32)
    assert type(eye) is Duck
    same(eye.data, np.eye(2, dtype=np.float32))
    assert type(asarray_like(0.5, duck)) is Duck


# --- the rule: no bare constructors in rules ----------------------------------------------------

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "wengert"
SCANNED = sorted((SRC / "rules").glob("*.py")) + [SRC / "partials.py"]
CONSTRUCTORS = {"eye", "zeros", "ones", "full", "empty", "arange", "tri", "identity"}

# (module, enclosing function, constructor): arrays that never meet a value, so NumPy's own
# are right whatever the array type: index arrays used only for indexing, and a one-element
# array broadcast only to read a shape.
ALLOWED = {
    ("rules/composites.py", "_full_convolution", "arange"),      # positions of the windows
    ("rules/dask_arrays.py", "_one_hot_placed", "arange"),       # rows of a one-hot matrix
    ("rules/dask_arrays.py", "_masked_product", "ones"),         # one-element NumPy probes
    ("rules/indexing.py", "_take_along_axis_index", "arange"),   # indices along other axes
    ("rules/placement.py", "_sum_repeats", "arange"),            # which element each copy is
    ("rules/placement.py", "_pad_transpose", "arange"),          # flat source indices
    ("rules/scipy_linalg_more.py", "_toeplitz_definition", "arange"),   # positions read
    ("rules/shapes.py", "layout", "empty"),                      # shape only
    ("rules/sums.py", "selection_shape", "empty"),               # shape only
    ("rules/updates.py", "last_writes", "empty"),                # shape only
    ("rules/updates.py", "last_writes", "arange"),               # positions written
    ("rules/updates.py", "last_writes", "full"),                 # which position survived
}


def bare_constructors(source, module):
    """``(module, enclosing function, name)`` of every call ``np.<name>(...)`` or
    ``numpy.<name>(...)`` of a constructor in ``source``."""
    found = []

    def visit(node, function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("np", "numpy") and node.func.attr in CONSTRUCTORS):
            found.append((module, function, node.func.attr))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), None)
    return found


def test_the_scan_finds_a_bare_constructor():
    source = "import numpy as np\ndef rule(x):\n    return x + np.zeros(3)\n"
    assert bare_constructors(source, "m.py") == [("m.py", "rule", "zeros")]
    assert bare_constructors("def f(x):\n    return np.zeros_like(x)\n", "m.py") == []


def test_rules_make_arrays_through_the_array_types():
    found = set()
    for path in SCANNED:
        module = path.relative_to(SRC).as_posix()
        found.update(bare_constructors(path.read_text(), module))
    outside = sorted(found - ALLOWED)
    assert not outside, (
        "bare NumPy constructors in rules (make them like a value with zeros_like_value, "
        f"eye_like, ... from rules/_helpers.py, or allow an index array here): {outside}")
    assert not ALLOWED - found, f"stale allow-list entries: {sorted(ALLOWED - found)}"
