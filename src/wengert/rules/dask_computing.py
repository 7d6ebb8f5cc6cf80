"""Dask arrays that SciPy would compute: refused while wengert differentiates a call.

SciPy's functions convert their arguments with ``np.asarray``, which computes a Dask array.
While a rule for such a function runs on Dask arrays (through its door), and while its level
walks the pullback back, every computation started in that thread raises: Dask's scheduler is
set, for the time being, to a function that refuses. The door then names the function that
would have computed, with the Dask function that differentiates lazily where there is one.

Dask's configuration is global, shared by all threads: the scheduler is set once for however
many threads refuse at a time, and a computation in any other thread goes on to the scheduler
it would have used.
"""
import contextlib
import threading

import dask
import dask.array
import dask.base
import dask.threaded

from ..arraytypes import ConversionRefused

_lock = threading.Lock()
_refusing = {}       # thread id -> how many refusals it has entered
_setting = []        # the dask.config.set in force while any thread refuses
_previous = []       # the scheduler configured before it (None: Dask's default)


def _scheduler(*args, **kwargs):
    """The scheduler while some thread refuses: refuse in that thread, else Dask's own."""
    if threading.get_ident() in _refusing:
        raise ConversionRefused(dask.array.Array)
    return _their_scheduler()(*args, **kwargs)


def _their_scheduler():
    previous = _previous[0] if _previous else None
    if previous is not None:
        return dask.base.get_scheduler(scheduler=previous)
    try:   # a distributed Client would have been Dask's default
        return dask.base.get_scheduler(scheduler="dask.distributed")
    except (RuntimeError, ValueError):
        return dask.threaded.get


@contextlib.contextmanager
def refusing_computation():
    """Computing a Dask array in this thread raises ``ConversionRefused`` inside."""
    me = threading.get_ident()
    with _lock:
        if not _refusing:
            _previous[:] = [dask.config.get("scheduler", None)]
            _setting[:] = [dask.config.set(scheduler=_scheduler)]
        _refusing[me] = _refusing.get(me, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _refusing[me] -= 1
            if not _refusing[me]:
                del _refusing[me]
            if not _refusing:
                _setting.pop().__exit__(None, None, None)
                _previous.clear()


# What differentiates lazily instead: Dask's functions that wengert differentiates.
_LINALG = "dask.array.linalg."
_INSTEAD = {
    "scipy.linalg.solve": _LINALG + "solve",
    "scipy.linalg.inv": _LINALG + "inv",
    "scipy.linalg.cholesky": _LINALG + "cholesky",
    "scipy.linalg.cho_factor": f"{_LINALG}cholesky and {_LINALG}solve_triangular",
    "scipy.linalg.cho_solve": f"{_LINALG}cholesky and {_LINALG}solve_triangular",
    "scipy.linalg.solve_triangular": _LINALG + "solve_triangular",
    "scipy.linalg.lu_factor": _LINALG + "solve",
    "scipy.linalg.lu_solve": _LINALG + "solve",
    "scipy.linalg.svd": _LINALG + "svd",
    "scipy.linalg.qr": _LINALG + "qr",
}
_NUMPY_FFT = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2",
              "irfft2", "fftn", "ifftn", "rfftn", "irfftn")
_INSTEAD.update({f"scipy.fft.{name}": f"np.fft.{name} (Dask computes it lazily)"
                 for name in _NUMPY_FFT})


def refusal(name):
    """The message for ``name``, a function that would have computed a Dask array."""
    base = name.split("'")[0]
    instead = _INSTEAD.get(base)
    way_out = f"Call {instead} instead, or compute" if instead else "Compute"
    who = "SciPy converts" if base.startswith("scipy.") else "it converts"
    return (f"{name} would compute the Dask array it was given: {who} its arguments to "
            "NumPy arrays, and differentiating computes nothing. "
            f"{way_out} the array first (x.compute()) to differentiate it as a NumPy array.")
