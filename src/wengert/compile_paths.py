"""One traced path of a ``wg.compile`` function: the emitted program and the checks around
its run — the places the function read still hold what they held, and a run whose guard
fails leaves the random generators it drew from where they stood."""
import numpy as np

from .compile_emit import Retrace
from .reach import all_held
from .tree import unflatten


class Program:
    """One traced path: the emitted function, its source, how to rebuild the output (None
    where the source returns the output's structure itself), and the places the function
    read through its closure, globals and objects, each with what it held then."""

    __slots__ = ("run", "source", "out_treedef", "places", "drawn", "generators")

    def __init__(self, run, source, out_treedef, places, drawn=((), ())):
        self.run = run
        self.source = source
        self.out_treedef = out_treedef
        self.places = places
        # the random generators it draws from, and those it draws from before a guard
        self.drawn, self.generators = drawn

    def __call__(self, leaves):
        if self.places and not all_held(self.places):
            raise Retrace   # a name or an attribute it read was rebound: trace again
        if self.generators:
            return self._drawing(leaves)
        if self.out_treedef is None:
            return self.run(*leaves)
        return unflatten(self.out_treedef, self.run(*leaves))

    def _drawing(self, leaves):
        """A run whose failed guard sets its generators back to where they stood, so that
        the path that takes the call draws the numbers the function would."""
        states = [_generator_state(g) for g in self.generators]
        try:
            out = self.run(*leaves)
        except Retrace:
            for g, state in zip(self.generators, states):
                _generator_state(g, state)
            raise
        return out if self.out_treedef is None else unflatten(self.out_treedef, out)


    def takes(self, leaves):
        """Whether this path takes the call (its guards hold), found by a run on copies of
        the arrays that sets the generators back after: asking changes nothing."""
        states = [_generator_state(g) for g in self.drawn]
        try:
            self([np.copy(a) if type(a) is np.ndarray else a for a in leaves])
            return True
        except Retrace:
            return False
        finally:
            for g, state in zip(self.drawn, states):
                _generator_state(g, state)


def _generator_state(generator, state=None):
    """Where ``generator`` stands; given a ``state``, sets it there."""
    if isinstance(generator, np.random.RandomState):
        return generator.get_state(legacy=False) if state is None else generator.set_state(state)
    if state is None:
        return generator.bit_generator.state
    generator.bit_generator.state = state
