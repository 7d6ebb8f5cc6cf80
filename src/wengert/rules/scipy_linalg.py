"""Rules for scipy.linalg, loaded when the program imports scipy.linalg (see _reach)."""
import scipy.linalg  # noqa: F401
