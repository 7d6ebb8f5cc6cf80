"""Rules for scipy.integrate, loaded when the program imports scipy.integrate (see _reach)."""
import scipy.integrate  # noqa: F401
