"""Numbers for people: SI prefixes, counts and ratios, one formatter each.

Every report (the demo report, ``neurosim report``, ``neurosim profiles``) formats its
quantities here, so the same energy reads the same everywhere. Values are SI base units
(joules, seconds); a missing value (``None`` or NaN) prints as :data:`MISSING`.
"""
from __future__ import annotations

import math

#: what a missing value prints as
MISSING = "–"

_PREFIXES = ((1e-15, "f"), (1e-12, "p"), (1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, ""), (1e3, "k"),
             (1e6, "M"), (1e9, "G"), (1e12, "T"))


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(float(value))


def format_si(value: float | None, unit: str = "", digits: int = 3) -> str:
    """A value with an SI prefix and ``digits`` significant digits.

    The prefix is the largest power ``10^(3k)`` not above ``|value|`` (after rounding to
    ``digits`` significant digits, so ``999.96e-6`` reads ``1 m``, not ``1e+03 µ``).

    Examples
    --------
    >>> format_si(2.5e-6, "J")
    '2.5 µJ'
    >>> format_si(0.0009999, "s")
    '1 ms'
    >>> format_si(None, "J")
    '–'
    """
    if _missing(value):
        return MISSING
    value = float(value)
    if value == 0:
        return f"0 {unit}".strip()
    rounded = abs(float(f"{value:.{digits}g}"))
    scale, prefix = _PREFIXES[0]
    for s, p in _PREFIXES:
        if rounded >= s:
            scale, prefix = s, p
    return f"{value / scale:.{digits}g} {prefix}{unit}".strip()


def format_count(value: float | None) -> str:
    """A count: digits with thousands separators below 10,000, then ``k`` and ``M``.

    Examples
    --------
    >>> format_count(1684), format_count(32768), format_count(2.5e6), format_count(0.25)
    ('1,684', '32.8 k', '2.5 M', '0.25')
    """
    if _missing(value):
        return MISSING
    value = float(value)
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g} M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.3g} k"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}"


def format_range(r: dict[str, float], unit: str) -> str:
    """``{low, typical, high}`` as ``'typical [low – high]'``."""
    return f"{format_si(r['typical'], unit)} [{format_si(r['low'], unit)} – {format_si(r['high'], unit)}]"


def format_ratio(a: float | None, b: float | None) -> str:
    """``a / b`` as ``'12x'`` (no decimals); ``'∞x'`` when ``b`` is zero."""
    if _missing(a) or _missing(b):
        return MISSING
    return f"{a / b:.0f}x" if b else "∞x"


__all__ = ["MISSING", "format_si", "format_count", "format_range", "format_ratio"]
