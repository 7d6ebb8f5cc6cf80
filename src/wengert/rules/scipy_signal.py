"""Rules for scipy.signal, loaded when the program imports scipy.signal (see _reach)."""
import scipy.signal  # noqa: F401
