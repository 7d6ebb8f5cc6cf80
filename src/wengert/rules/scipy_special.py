"""Rules for scipy.special, loaded when the program imports scipy.special (see _reach)."""
import scipy.special  # noqa: F401
