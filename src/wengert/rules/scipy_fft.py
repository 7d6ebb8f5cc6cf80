"""Rules for scipy.fft, loaded when the program imports scipy.fft (see _reach)."""
import scipy.fft  # noqa: F401
