"""Rules for scipy.stats, loaded when the program imports scipy.stats (see _reach)."""
import scipy.stats  # noqa: F401
