"""Checks of derivatives: ``check_grads`` for any function, ``check_rrule`` / ``check_frule``
for one rule.

The checks pair a random output cotangent ``v`` with the function, ``L(x) = Re⟨v, f(x)⟩``,
so one reverse pass gives the whole gradient of ``L``, and compare it with central
differences of ``L`` in float64 — per coordinate for small inputs, along random directions
(the cheap ⟨v, J u⟩ check) for large ones. Complex inputs are checked in their real and
imaginary parts, with the convention that the gradient is ∂L/∂Re z + i ∂L/∂Im z.

A rule is checked against finite differences and, where the call has an implementation AD
can go through (a ``wg.primitive``'s body, or an ndarray subclass's own NumPy override),
against AD of that implementation, coordinate by coordinate. Every failure is an
AssertionError naming the argument and coordinate of the worst mismatch.
"""
from .grads import check_grads
from .rules import check_frule, check_rrule

__all__ = ["check_grads", "check_rrule", "check_frule"]
