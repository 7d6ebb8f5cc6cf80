"""Rules for np.linalg's inverses and related functions: inv, det, slogdet, matrix_power, pinv,
lstsq and the array-API aliases. Solves are in rules/solves.py, norms in rules/norms.py.

Every rule accepts stacks of matrices (leading axes) and complex input where NumPy does, and
has both modes: each forward rule sits under its reverse rule, and the two are adjoint to
each other. Cotangents follow the complex convention of docs/conventions.md
(∂L/∂Re A + i ∂L/∂Im A), so matrix formulas use conjugate transposes; tangents follow the
plain chain rule. Rule bodies are NumPy code on possibly traced values, so every rule nests
(see docs/linalg.md).
"""
import operator

import numpy as np

from ..registry import no_rule
from ..registry import forward_rules, reverse_rules
from ._helpers import (ZERO, conj, forward, is_complex, is_zero, non_differentiable, reverse,
                       shape_of)
from ._matrices import (adjoint, dense_tangents, fit, hermitian_part, matrix_scalar,
                        per_argument, real, singular_value_tangents)


# --- inverse and determinants ----------------------------------------------------------------

@reverse(np.linalg.inv)
def _inv(needs, a):
    inverse = np.linalg.inv(a)

    def inv_pullback(ct):
        inverse_h = adjoint(inverse)
        return (fit(a, -(inverse_h @ ct @ inverse_h)),)

    return inverse, inv_pullback


@forward(np.linalg.inv)
def _inv_forward(tangents, a):
    inverse = np.linalg.inv(a)
    (da,) = dense_tangents(tangents, 1)
    return inverse, -(inverse @ da @ inverse)


def _trace_of_solve(a, da):
    """tr(A⁻¹ dA) per matrix of a stack: the derivative of log det."""
    return np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * da, axis=(-2, -1))


@reverse(np.linalg.det)
def _det(needs, a):
    det = np.linalg.det(a)

    def det_pullback(ct):
        # d det = det · tr(A⁻¹ dA). A singular A raises LinAlgError (see docs/linalg.md).
        return (fit(a, matrix_scalar(ct * conj(det)) * adjoint(np.linalg.inv(a))),)

    return det, det_pullback


@forward(np.linalg.det)
def _det_forward(tangents, a):
    det = np.linalg.det(a)
    (da,) = dense_tangents(tangents, 1)
    return det, det * _trace_of_solve(a, da)


@reverse(np.linalg.slogdet)
def _slogdet(needs, a):
    out = np.linalg.slogdet(a)

    def slogdet_pullback(cts):
        sign_ct, logabsdet_ct = cts
        # d log|det| = Re tr(A⁻¹dA); for complex A, d sign = sign · i Im tr(A⁻¹dA). A real
        # sign is piecewise constant: its cotangent is dropped.
        coefficient = logabsdet_ct
        if is_complex(a) and not is_zero(sign_ct):
            coefficient = coefficient + 1j * np.imag(sign_ct * np.conjugate(out[0]))
        if is_zero(coefficient):
            return (ZERO,)
        return (fit(a, matrix_scalar(coefficient) * adjoint(np.linalg.inv(a))),)

    return out, slogdet_pullback


@forward(np.linalg.slogdet)
def _slogdet_forward(tangents, a):
    out = np.linalg.slogdet(a)
    (da,) = dense_tangents(tangents, 1)
    trace = _trace_of_solve(a, da)
    if not is_complex(trace):   # a real sign is piecewise constant
        return out, (ZERO, trace)
    return out, (out[0] * 1j * np.imag(trace), np.real(trace))


@reverse(np.linalg.matrix_power)
def _matrix_power(needs, a, n):
    n = operator.index(n)
    out = np.linalg.matrix_power(a, n)

    def matrix_power_pullback(ct):
        if n == 0:   # the identity
            return per_argument(needs)
        if n > 0:
            return per_argument(needs, fit(a, _power_sum(adjoint(a), ct, n)[0]))
        inverse_h = adjoint(np.linalg.inv(a))
        grad = -(inverse_h @ _power_sum(inverse_h, ct, -n)[0] @ inverse_h)
        return per_argument(needs, fit(a, grad))

    return out, matrix_power_pullback


@forward(np.linalg.matrix_power)
def _matrix_power_forward(tangents, a, n):
    n = operator.index(n)
    out = np.linalg.matrix_power(a, n)
    (da,) = dense_tangents(tangents, 1)
    if n == 0:   # the identity
        return out, ZERO
    if n > 0:
        return out, _power_sum(a, da, n)[0]
    inverse = np.linalg.inv(a)   # Aⁿ = (A⁻¹)⁻ⁿ and dA⁻¹ = -A⁻¹ dA A⁻¹
    return out, _power_sum(inverse, -(inverse @ da @ inverse), -n)[0]


def _power_sum(b, c, k):
    """``(Σ_{j<k} Bʲ C Bᵏ⁻¹⁻ʲ, Bᵏ)`` in O(log k) products: the tangent of B ↦ Bᵏ along C,
    and with B = Aᴴ the pullback of A ↦ Aᵏ."""
    if k == 1:
        return c, b
    if k % 2 == 0:
        s, power = _power_sum(b, c, k // 2)
        return s @ power + power @ s, power @ power
    s, power = _power_sum(b, c, k - 1)
    return s @ b + power @ c, power @ b


# --- least squares and pseudo-inverse -------------------------------------------------------

def _pinv_hermitian(args, kwargs):
    return args[1] if len(args) > 1 else kwargs.get("hermitian", False)


@reverse(np.linalg.pinv)
def _pinv(needs, a, *args, **kwargs):
    x = np.linalg.pinv(a, *args, **kwargs)
    hermitian = _pinv_hermitian(args, kwargs)

    def pinv_pullback(ct):
        grad = _pinv_cotangent(a, x, ct)
        return per_argument(needs, fit(a, hermitian_part(grad) if hermitian else grad))

    return x, pinv_pullback


@forward(np.linalg.pinv)
def _pinv_forward(tangents, a, *args, **kwargs):
    x = np.linalg.pinv(a, *args, **kwargs)
    (da,) = dense_tangents(tangents, 1)
    if _pinv_hermitian(args, kwargs):   # one triangle is read: the Hermitian tangent
        da = hermitian_part(da)
    return x, _pinv_tangent(a, x, da)


def _pinv_tangent(a, x, da):
    """dA⁺ = -A⁺dA A⁺ + A⁺A⁺ᴴdAᴴ(I - AA⁺) + (I - A⁺A)dAᴴA⁺ᴴA⁺ (constant rank)."""
    da_h = adjoint(da)
    x_h = adjoint(x)
    left = x @ (x_h @ da_h)              # A⁺A⁺ᴴdAᴴ, then (I - AA⁺) on the right
    right = da_h @ (x_h @ x)             # dAᴴA⁺ᴴA⁺, then (I - A⁺A) on the left
    return -(x @ da @ x) + left - (left @ a) @ x + right - x @ (a @ right)


def _pinv_cotangent(a, x, x_ct):
    """Adjoint of ``_pinv_tangent``."""
    x_h = adjoint(x)
    x_ct_h = adjoint(x_ct)
    grad = -(x_h @ x_ct @ x_h)
    left = x_ct_h @ (x @ x_h)            # X̄ᴴ A⁺A⁺ᴴ, then (I - AA⁺) on the left
    grad = grad + left - a @ (x @ left)
    right = x_h @ (x @ x_ct_h)           # A⁺ᴴA⁺X̄ᴴ, then (I - A⁺A) on the right
    return grad + right - (right @ x) @ a


@reverse(np.linalg.lstsq)
def _lstsq(needs, a, b, *args, **kwargs):
    out = np.linalg.lstsq(a, b, *args, **kwargs)

    def lstsq_pullback(cts):
        x_ct, residuals_ct, _, s_ct = cts
        x, residuals = out[0], out[1]
        vector = len(shape_of(b)) == 1
        b_m = b[:, None] if vector else b
        x_m = x[:, None] if vector else x
        a_ct = b_ct = ZERO
        if not is_zero(x_ct):  # x = A⁺b, for A of full rank
            x_ct_m = x_ct[:, None] if vector else x_ct
            pseudo_inverse = np.linalg.pinv(a)
            if needs[1]:
                b_ct = adjoint(pseudo_inverse) @ x_ct_m
            if needs[0]:
                a_ct = _pinv_cotangent(a, pseudo_inverse, x_ct_m @ adjoint(b_m))
        if not is_zero(residuals_ct) and shape_of(residuals)[0] > 0:
            # residuals = Σ|b - Ax|² per column; x's own change does not move it (Aᴴr = 0).
            weighted = 2 * (b_m - a @ x_m) * residuals_ct
            b_ct = b_ct + weighted
            a_ct = a_ct - weighted @ adjoint(x_m)
        if not is_zero(s_ct):
            u, _, vh = np.linalg.svd(a, full_matrices=False)
            a_ct = a_ct + (u * s_ct) @ vh
        if not is_zero(b_ct) and vector:
            b_ct = b_ct[:, 0]
        return per_argument(needs, fit(a, a_ct), fit(b, b_ct))

    return out, lstsq_pullback


@forward(np.linalg.lstsq)
def _lstsq_forward(tangents, a, b, *args, **kwargs):
    out = np.linalg.lstsq(a, b, *args, **kwargs)
    x, residuals = out[0], out[1]
    da, db = dense_tangents(tangents, 2)
    vector = len(shape_of(b)) == 1
    b_m = b[:, None] if vector else b
    x_m = x[:, None] if vector else x
    db_m = ZERO if is_zero(db) else (db[:, None] if vector else db)
    # x = A⁺b (full rank): dx = dA⁺ b + A⁺ db.
    pseudo_inverse = np.linalg.pinv(a)
    dx = ZERO if is_zero(db_m) else pseudo_inverse @ db_m
    # The change of b - Ax that x does not absorb (Aᴴr = 0 makes x's own change drop out).
    moved = db_m
    if not is_zero(da):
        dx = dx + _pinv_tangent(a, pseudo_inverse, da) @ b_m
        moved = moved - da @ x_m
    dresiduals = ZERO
    if shape_of(residuals)[0] > 0:   # residuals = Σ|b - Ax|² per column
        dresiduals = 2 * real(np.sum(conj(b_m - a @ x_m) * moved, axis=0))
    ds = ZERO
    if not is_zero(da):
        u, _, vh = np.linalg.svd(a, full_matrices=False)
        ds = singular_value_tangents(u, vh, da)
    return out, (dx[:, 0] if vector else dx, dresiduals, ZERO, ds)


# --- the rest of the namespace ------------------------------------------------------------------

non_differentiable(np.linalg.matrix_rank)

# np.linalg's array-API functions that are another NumPy function with fixed keywords: they
# use that function's rules.
_SAME_AS = {
    "matmul": (np.matmul, {}),
    "outer": (np.outer, {}),
    "tensordot": (np.tensordot, {}),
    "matrix_transpose": ("matrix_transpose", {}),
    "trace": (np.trace, {"axis1": -2, "axis2": -1}),
    "diagonal": (np.diagonal, {"axis1": -2, "axis2": -1}),
    "vecdot": ("vecdot", {}),
    "cross": (np.cross, {}),
}


def _same_as(table, mode, target, fixed):
    """A rule of ``table`` that hands the call to ``target``'s rule of the same table."""
    def rule(mask, *args, **kwargs):   # mask: needs (reverse) or tangents (forward)
        target_rule = table.lookup(target, args)
        if target_rule is None:
            raise no_rule(target, mode)
        kwargs = {**fixed, **kwargs}
        if target_rule.masked:
            return target_rule.impl(mask, *args, **kwargs)
        if mode == "forward":   # a user's frule takes the tangents first
            return target_rule.impl(*mask, *args, **kwargs)
        return target_rule.impl(*args, **kwargs)

    return rule


for _name, (_target, _fixed) in _SAME_AS.items():
    _target = getattr(np, _target, None) if isinstance(_target, str) else _target
    _alias = getattr(np.linalg, _name, None)
    if _alias is not None and _target is not None and _alias is not _target:
        for _table, _mode in ((reverse_rules, "reverse"), (forward_rules, "forward")):
            _table.add(_alias, (), _same_as(_table, _mode, _target, _fixed), masked=True)
