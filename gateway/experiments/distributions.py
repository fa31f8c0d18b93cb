"""The distributions the A/B tests need, in plain Python: Student's t (CDF, quantile) and the normal.

scipy would pull a large native dependency into a gateway that needs four numbers per test; the
t CDF is the regularized incomplete beta function, evaluated here with the continued fraction of
Numerical Recipes (§6.4, modified Lentz), which converges quickly on the side of the symmetry
point it is used on. The quantile inverts the CDF by Newton's method kept inside a bisection
bracket, so it cannot diverge in the heavy tails of small ``df``. The normal comes from the
standard library (``statistics.NormalDist``, ``math.erfc``). Tests check all of them against
tabulated values and the closed forms for 1 and 2 degrees of freedom.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_STANDARD_NORMAL = NormalDist()
_TINY = 1e-300
_EPS = 1e-15
_MAX_TERMS = 100_000
_LARGE_DF = 1e7
"""Above this many degrees of freedom the t distribution is the normal to ~1e-8."""


def normal_cdf(z: float) -> float:
    """P(Z ≤ z) for a standard normal Z (via ``erfc``, so the lower tail keeps its precision)."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def normal_quantile(p: float) -> float:
    """The z with P(Z ≤ z) = p, for 0 < p < 1."""
    _check_probability(p)
    return _STANDARD_NORMAL.inv_cdf(p)


def normal_two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|), precise in the far tail (no ``1 - cdf`` cancellation)."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), for a, b > 0 and 0 ≤ x ≤ 1."""
    if a <= 0 or b <= 0:
        raise ValueError(f"incomplete_beta needs a, b > 0, not a={a}, b={b}")
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"incomplete_beta needs 0 ≤ x ≤ 1, not {x}")
    return _incomplete_beta(a, b, x, 1.0 - x)


def _incomplete_beta(a: float, b: float, x: float, y: float) -> float:
    """I_x(a, b) given both x and y = 1 - x, so callers can pass a y that was not rounded through x."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    # Take each logarithm from the smaller of x and y, which carries the precision (x may have rounded to 1).
    log_x = math.log(x) if x < 0.5 else math.log1p(-y)
    log_y = math.log(y) if y < 0.5 else math.log1p(-x)
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * log_x + b * log_y
    front = math.exp(log_front)
    # The continued fraction converges fast only below the symmetry point; use I_x(a,b) = 1 - I_y(b,a) above it.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, y) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) by the modified Lentz method."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = _nonzero(1.0 - qab * x / qap)
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        even = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 / _nonzero(1.0 + even * d)
        c = _nonzero(1.0 + even / c)
        h *= d * c
        odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 / _nonzero(1.0 + odd * d)
        c = _nonzero(1.0 + odd / c)
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def _nonzero(value: float) -> float:
    return value if abs(value) >= _TINY else _TINY


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom (any real df > 0)."""
    _check_df(df)
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    if df >= _LARGE_DF:
        return normal_cdf(t)
    tail = 0.5 * _t_tails(t, df)
    return 1.0 - tail if t > 0 else tail


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| ≥ |t|): the two-sided p-value of a t statistic, precise in the far tail."""
    _check_df(df)
    if math.isinf(t):
        return 0.0
    if df >= _LARGE_DF:
        return normal_two_sided_p(t)
    return _t_tails(t, df)


def _t_tails(t: float, df: float) -> float:
    """P(|T| ≥ |t|) = I_{df/(df+t²)}(df/2, 1/2); the complement t²/(df+t²) is computed directly, not as 1 - x."""
    t2 = t * t
    return _incomplete_beta(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2))


def t_pdf(t: float, df: float) -> float:
    """The density of Student's t at ``t``."""
    _check_df(df)
    log_norm = math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1.0) / 2.0 * math.log1p(t * t / df))


def t_quantile(p: float, df: float) -> float:
    """The t with P(T ≤ t) = p, for 0 < p < 1."""
    _check_probability(p)
    _check_df(df)
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if df >= _LARGE_DF:
        return normal_quantile(p)
    if df == 1.0:
        return math.tan(math.pi * (p - 0.5))
    if df == 2.0:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    return _solve_upper(p, df)


def _solve_upper(p: float, df: float) -> float:
    """Newton's method on t_cdf(x) = p for x > 0, falling back to bisection when a step leaves the bracket."""
    lo, hi = 0.0, max(1.0, 2.0 * normal_quantile(p))
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    x = min(max(normal_quantile(p), lo), hi)
    for _ in range(200):
        gap = t_cdf(x, df) - p
        if gap > 0:
            hi = x
        else:
            lo = x
        density = t_pdf(x, df)
        candidate = x - gap / density if density > 0 else math.nan
        if not lo < candidate < hi:
            candidate = (lo + hi) / 2.0
        if abs(candidate - x) <= 1e-13 * max(1.0, abs(x)):
            return candidate
        x = candidate
    return x


def _check_probability(p: float) -> None:
    if not 0.0 < p < 1.0:
        raise ValueError(f"a probability strictly between 0 and 1 is needed, not {p}")


def _check_df(df: float) -> None:
    if not df > 0:
        raise ValueError(f"degrees of freedom must be positive, not {df}")
