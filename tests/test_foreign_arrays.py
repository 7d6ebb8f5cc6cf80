"""CuPy's path, on the CPU: an array type of another library, eager and mutable, that answers
NumPy's functions itself and refuses to be converted to a NumPy array, as CuPy does.

``DeviceArray`` holds a NumPy array and answers ``__array_ufunc__`` / ``__array_function__``
by calling NumPy on what it holds, so the numbers are NumPy's; like CuPy's arrays it refuses
``np.asarray`` (a copy to the host must be asked for), refuses NumPy arrays as operands
(they live on the host), and gives 0-d arrays, not scalars, from reductions. Registered with a
record like CuPy's for these tests only, it shows that rules never convert a primal or leak a
NumPy array: every gradient comes back as a DeviceArray equal to NumPy's."""
import numbers

import numpy as np
import pytest

import wengert as wg
from wengert import arraytypes

_special = pytest.importorskip("scipy.special")
_linalg = pytest.importorskip("scipy.linalg")


class DeviceArray(np.lib.mixins.NDArrayOperatorsMixin):
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data

    # What NumPy's protocols hand over: our arrays unwrapped, results wrapped. A type it
    # does not know (a tracer) gets the call instead, as NumPy's protocols intend.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if not all(type(v) in _KNOWN or isinstance(v, (numbers.Number, np.generic))
                   for v in inputs):
            return NotImplemented
        out = kwargs.pop("out", None)
        kwargs = _host(kwargs)
        if out is not None:
            kwargs["out"] = _host(out)
        result = getattr(ufunc, method)(*_host(inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _device(result)

    def __array_function__(self, func, types, args, kwargs):
        if not all(t in _KNOWN for t in types):
            return NotImplemented
        kwargs = {k: v for k, v in kwargs.items() if k != "like"}
        return _device(func(*_host(args), **_host(kwargs)))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed (as CuPy's); "
                        "call .get() to copy it to the host")

    def get(self):
        return self.data.copy()

    # The attributes and methods of an array.
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    T = property(lambda self: DeviceArray(self.data.T))
    mT = property(lambda self: DeviceArray(self.data.mT))
    real = property(lambda self: DeviceArray(self.data.real))
    imag = property(lambda self: DeviceArray(self.data.imag))

    def __getattr__(self, name):   # methods: x.sum(), x.reshape(...), x.astype(...)
        method = getattr(self.data, name)
        if not callable(method):
            raise AttributeError(name)
        return lambda *args, **kwargs: _device(method(*_host(args), **_host(kwargs)))

    def __getitem__(self, index):
        return _device(self.data[_index(index)])

    def __setitem__(self, index, value):
        self.data[_index(index)] = _host(value)

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        return (DeviceArray(row) for row in self.data)

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __bool__(self):
        return bool(self.data)

    def __repr__(self):
        return f"DeviceArray({self.data!r})"


_KNOWN = {DeviceArray, np.ndarray}   # np.ndarray: to be refused (see _host)


def _host(value):
    """Our arrays as NumPy's, inside lists, tuples and dicts; a NumPy array is refused, as
    CuPy refuses an array of the host."""
    if type(value) is DeviceArray:
        return value.data
    if type(value) is np.ndarray:
        raise TypeError("Unsupported type <class 'numpy.ndarray'>: a NumPy array mixed "
                        "with DeviceArrays (as CuPy refuses them)")
    if type(value) in (list, tuple):
        return type(value)(_host(v) for v in value)
    if type(value) is dict:
        return {k: _host(v) for k, v in value.items()}
    return value


def _index(index):
    """An index: NumPy's integer and boolean arrays are allowed there (CuPy copies them)."""
    if type(index) is tuple:
        return tuple(_index(i) for i in index)
    return index.data if type(index) is DeviceArray else index


def _device(value):
    """A result as ours: arrays and NumPy's scalars (CuPy's reductions give 0-d arrays)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return DeviceArray(np.asarray(value))
    if isinstance(value, tuple):
        items = [_device(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if type(value) is list:
        return [_device(v) for v in value]
    return value


def _asarray(value, dtype=None):
    """The library's asarray: from the host (a copy) or already ours."""
    if type(value) is DeviceArray:
        return value if dtype is None else DeviceArray(value.data.astype(dtype))
    return DeviceArray(np.array(value, dtype=dtype))


def _placed(shape, dtype, index, values):
    """Zeros with ``values`` added at ``index``, repeats adding up (cupyx.scatter_add)."""
    dense = np.zeros(shape, dtype)
    np.add.at(dense, _index(index), _host(values))
    return DeviceArray(dense)


def _maker(function):
    return lambda *args, **kwargs: DeviceArray(function(*args, **kwargs))


_DERIVED = ("_records", "CONSTANTS", "INEXACT_SCALARS", "INEXACT_NUMBERS", "ONE_VALUE",
            "ATOMS", "MARKED", "UNMARKED_ARRAYS", "MAY_HOLD_SELECTED_ZEROS", "MASKED_PRODUCTS",
            "IN_PLACE", "LACKED", "REFUSING_CONVERSION")


@pytest.fixture(scope="module", autouse=True)
def device_arrays():
    """DeviceArray registered as CuPy is (rules/cupy_arrays.py), the table restored after."""
    saved = {name: getattr(arraytypes, name).copy() for name in _DERIVED}
    arraytypes.register_array_type(arraytypes.ArrayType(
        DeviceArray, in_place=True, asarray=_asarray, zeros=_maker(np.zeros),
        ones=_maker(np.ones), full=_maker(np.full), eye=_maker(np.eye), tri=_maker(np.tri),
        arange=_maker(np.arange), placed=_placed,
        refusal=lambda name: f"{name} cannot run on DeviceArrays: SciPy converts them"))
    yield
    for name, contents in saved.items():   # in place: other modules hold these objects
        table = getattr(arraytypes, name)
        table.clear()
        table.update(contents)


def on_device(*arrays):
    return tuple(DeviceArray(np.array(a)) for a in arrays)


def assert_like_numpys(got, want, rtol=1e-10, atol=1e-12):
    """``got``, a structure of DeviceArrays (never NumPy's), equal to NumPy's ``want``."""
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_like_numpys(g, w, rtol, atol)
        return
    assert type(got) is DeviceArray, type(got)
    np.testing.assert_allclose(got.data, want, rtol=rtol, atol=atol)


def test_the_stand_in_refuses_conversion_like_cupy():
    x, = on_device([1.0, 2.0])
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Unsupported type"):
        x + np.ones(2)
    assert type(np.sum(x)) is DeviceArray and np.sum(x).shape == ()


RNG = np.random.default_rng(0)
W, X = RNG.standard_normal((3, 2)), RNG.standard_normal((5, 3))
SPD = X.T @ X + np.eye(3)

# f(w, x) of two arrays, each loss a 0-d array
WORKLOADS = {
    # tests/test_cupy.py's three
    "network": lambda w, x: np.sum(np.tanh(x @ w) ** 2) + 0.5 * np.sum(w * w),
    "solve": lambda w, x: np.sum(np.linalg.solve(x.T @ x + np.eye(3, like=x), w) ** 2),
    "indexing": lambda w, x: np.sum(x[[0, 0, 2]] @ w) + np.sum(np.concatenate([w, w]) ** 3),
    # elementwise
    "elementwise": lambda w, x: np.sum(np.exp(w) * np.sin(w) + np.log1p(w * w)
                                       + np.sqrt(w * w + 1.0) / (2.0 + np.cos(w))),
    "power and where": lambda w, x: np.sum(np.where(w > 0, w ** 3, -w) + np.abs(w) ** 1.5
                                           + np.maximum(w, 0.1) * np.minimum(w, 0.2)),
    "broadcasting": lambda w, x: np.sum((x[:, :, None] * w[None, :, :]) ** 2),
    # reductions
    "reductions": lambda w, x: (np.sum(np.mean(x, axis=0) ** 2) + np.max(w) + np.prod(w)
                                + np.var(x) + np.sum(np.linalg.norm(x, axis=1))),
    "logsumexp": lambda w, x: np.sum(np.log(np.sum(np.exp(x @ w), axis=1))),
    # products and linear algebra
    "matmul": lambda w, x: np.sum((x @ w) @ w.T) + np.trace(x.T @ x @ w @ w.T),
    "einsum": lambda w, x: np.einsum("ij,jk,ik->", x, w, x @ w),
    "inverse": lambda w, x: np.sum(np.linalg.inv(x.T @ x + np.eye(3, like=x)) * (w @ w.T)),
    "cholesky": lambda w, x: np.sum(np.linalg.cholesky(x.T @ x + np.eye(3, like=x)) ** 2),
    "log-determinant": lambda w, x: np.linalg.slogdet(x.T @ x + w @ w.T)[1],
    "eigh": lambda w, x: np.sum(np.linalg.eigh(x.T @ x + w @ w.T)[0] ** 2),
    # indexing and joins
    "repeated indices": lambda w, x: np.sum(w[[0, 2, 2, 1, 0]] ** 2 * x[[1, 1, 1, 4, 0], :2]),
    "slices and masks": lambda w, x: (np.sum(x[1:4, ::2] ** 2) + np.sum(w[w > 0])
                                      + np.sum(x[:, 1] * x[:, -1])),
    "joins": lambda w, x: np.sum(np.stack([w, 2 * w]) ** 2) + np.sum(
        np.concatenate([x, x @ w @ w.T], axis=0)[:, 0]) + np.sum(np.hstack([w, w]) ** 3),
    "shapes": lambda w, x: np.sum(np.reshape(x, (3, 5)).T ** 2 * x)
    + np.sum(np.swapaxes(w, 0, 1) @ w) + np.sum(np.flip(np.ravel(x)) * np.ravel(x)),
    "writes": lambda w, x: _written(w, x),
    "a loop of reads": lambda w, x: np.sum(w ** 2) + sum(w[i, 0] * w[i, 1] + x[i, i]
                                                         for i in range(3)),
    "a loop of writes": lambda w, x: _written_in_a_loop(w, x),
    # more of each family, two at a time
    "scans": lambda w, x: np.sum(np.cumsum(x, axis=0) ** 2) + np.sum(np.cumprod(w + 2.0, axis=1))
    + np.sum(np.diff(x, axis=0) ** 2),
    "clip and triangles": lambda w, x: np.sum(np.clip(x, -0.5, 0.5) ** 2)
    + np.sum(np.tril(x.T @ x) ** 2 + np.triu(x.T @ x)) + np.trace(x.T @ x),
    "outer, kron, tensordot": lambda w, x: np.sum(np.outer(w, w) ** 2) + np.sum(np.kron(w, w))
    + np.sum(np.tensordot(x, w, axes=1) ** 2) + np.sum(np.dot(x, w)),
    "max, min, std": lambda w, x: np.sum(np.max(x, axis=1) ** 2) + np.sum(np.min(w, axis=0))
    + np.sum(np.std(x, axis=0)),
    "sort, take, pad, roll": lambda w, x: np.sum(np.sort(x, axis=0)[0] ** 2)
    + np.sum(np.take(x, [0, 2, 2], axis=0) ** 2) + np.sum(np.pad(w, 1) ** 2)
    + np.sum(np.roll(x, 1) * x),
    "tile, repeat, split": lambda w, x: np.sum(np.tile(w, (2, 1)) ** 2)
    + np.sum(np.repeat(w, 2, axis=0) ** 3) + np.sum(np.split(x, [2])[1] ** 2),
    "det, qr, svd": lambda w, x: np.linalg.det(x.T @ x + w @ w.T)
    + np.sum(np.linalg.qr(x)[1] ** 2) + np.sum(np.linalg.svd(x, full_matrices=False)[1]),
    "norm, pinv, power": lambda w, x: np.linalg.norm(x) + np.linalg.norm(w, ord=1)
    + np.sum(np.linalg.pinv(x) ** 2) + np.sum(np.linalg.matrix_power(x.T @ x, 3)),
    "fft": lambda w, x: np.sum(np.abs(np.fft.fft(x @ w, axis=0)) ** 2),
    "two arguments": lambda w, x: np.sum(np.logaddexp(w, 2 * w) + np.arctan2(w, 1.5)
                                         + np.hypot(w, 1.0)),
    "a pole not taken": lambda w, x: np.sum(np.sqrt(np.where(w > 0, w, 0.0))),
    "complex": lambda w, x: np.sum(np.abs(np.exp(1j * w) * (1 + 2j)) ** 2
                                   + np.real(np.conj(w * 1j) * w)),
    "float32": lambda w, x: np.sum(np.tanh(x.astype(np.float32) @ w.astype(np.float32))),
    "methods": lambda w, x: (x.sum(axis=0) ** 2).sum() + (w.T @ w).trace()
    + x.reshape(-1).dot(x.ravel()) + w.max() + np.sum(x[x > 0] ** 2),
    "scipy.special": lambda w, x: _special.logsumexp(x @ w)
    + np.sum(_special.softmax(x @ w, axis=0) ** 2) + np.sum(_special.expit(x @ w)),
    "list operands": lambda w, x: np.sum((w * [1.0, 2.0] + [0.5, -1.0]) ** 2 - [3.0] * w),
    "scipy.linalg.toeplitz": lambda w, x: np.sum(_linalg.toeplitz(x[:, 0], w[:, 1]) ** 2),
}


def _written(w, x):
    y = np.zeros_like(x * w[0, 0])   # traced when only w is (a Hessian in w)
    y[:, :2] = x[:, :2] * w[0]
    y[1] += w[:, 1]
    return np.sum(y ** 2)


def _written_in_a_loop(w, x):
    y = np.zeros_like(x * w[0, 0])
    for i in range(3):
        y[i] = x[i] * w[i, 0]
        y[i, 1] += w[i, 1]
    return np.sum(y ** 2)


@pytest.mark.parametrize("name", WORKLOADS)
def test_reverse_mode_gives_device_arrays_equal_to_numpys(name):
    f = WORKLOADS[name]
    assert_like_numpys(wg.gradient(f, *on_device(W, X)), wg.gradient(f, W, X))


@pytest.mark.parametrize("name", WORKLOADS)
def test_forward_mode_gives_device_arrays_equal_to_numpys(name):
    f = WORKLOADS[name]
    directions = (np.cos(np.arange(6.0)).reshape(3, 2), np.sin(np.arange(15.0)).reshape(5, 3))
    y, dy = wg.jvp(f, on_device(W, X), on_device(*directions))
    y_numpy, dy_numpy = wg.jvp(f, (W, X), directions)
    assert_like_numpys((y, dy), (y_numpy, dy_numpy))


@pytest.mark.parametrize("name", WORKLOADS)
def test_a_hessian_is_a_device_array(name):
    f = WORKLOADS[name]
    w, x = on_device(W, X)
    assert_like_numpys(wg.hessian(lambda w: f(w, x), w), wg.hessian(lambda w: f(w, X), W),
                       rtol=1e-8, atol=1e-10)


def test_a_jacobian_is_a_device_array():
    w, x = on_device(W, X)
    g = lambda w: np.tanh(x @ w)   # noqa: E731
    assert_like_numpys(wg.jacobian(g, w)[0], wg.jacobian(lambda w: np.tanh(X @ w), W)[0])


def test_a_cotangent_is_accumulated_in_place_as_numpys_is():
    # x used many times: its cotangents add up into one array of the device's own.
    w, = on_device(W)
    g = wg.gradient(lambda w: sum(np.sum(w * k) for k in range(1, 6)), w)[0]
    assert_like_numpys(g, np.full((3, 2), 15.0))


def test_a_value_and_its_gradient_are_both_device_arrays():
    f = WORKLOADS["network"]
    value, grad = wg.value_and_grad(f)(*on_device(W, X))   # x a constant of the device
    assert_like_numpys((value, grad), (f(W, X), wg.gradient(f, W, X)[0]))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_scipy_converting_a_device_array_is_a_clear_error(mode):
    # SciPy's np.asarray meets the array's own refusal (CuPy's TypeError): the record's
    # message names the function.
    f = lambda a: np.sum(_linalg.solve(a, a[0]))   # noqa: E731
    a, = on_device(SPD)
    with pytest.raises(wg.DifferentiationError, match="scipy.linalg.solve cannot run on "):
        if mode == "reverse":
            wg.gradient(f, a)
        else:
            wg.jvp(f, (a,), (a,))
    with pytest.raises(TypeError, match="Implicit conversion"):   # untraced: SciPy's own
        f(a)


@pytest.mark.parametrize("name", WORKLOADS)
def test_a_compiled_gradient_gives_device_arrays_equal_to_numpys(name):
    # The program's NumPy calls reach the device's arrays through NumPy's protocols; what the
    # record makes (zeros, placements) is a line calling the record's own function.
    f = WORKLOADS[name]
    g = wg.compile(wg.grad(f, argnums=(0, 1)))
    for scale in (1.0, 0.5):   # the second call runs the program only
        w, x = on_device(W * scale, X)
        assert_like_numpys(g(w, x), wg.gradient(f, W * scale, X), rtol=1e-9, atol=1e-11)
