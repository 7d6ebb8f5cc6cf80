"""Derivatives through scipy.integrate's ODE solvers, loaded when the program imports
scipy.integrate. The solvers call the user's function, so their rules differentiate it:
they live above both mode engines, like ``checkpoint``."""
import scipy.integrate  # noqa: F401
