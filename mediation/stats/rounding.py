"""The one rounding rule for published figures: 四舍五入 (half up), from exact integers.

Counts, seconds and amounts in fen reach Python as integers; every rate and average is
their exact quotient, rounded half up to one decimal (9 of 16 = 56.25 % prints 56.3, not
Python's round-half-even 56.2). No float is involved, so SQLite and PostgreSQL print the
same figure for the same cases."""
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

TENTH = Decimal("0.1")
FEN = Decimal("0.01")


def half_up(value: Fraction | int, places: Decimal = TENTH) -> Decimal:
    """``value`` rounded half up (away from zero on an exact tie) to ``places``."""
    value = Fraction(value)
    exponent = places.as_tuple().exponent  # -1 for tenths
    scaled = value * 10 ** -exponent
    whole = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    return (Decimal(-whole if scaled < 0 else whole).scaleb(exponent)).quantize(places, rounding=ROUND_HALF_UP)


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent to one decimal; None when ``whole`` is 0."""
    return half_up(Fraction(100 * int(part), int(whole))) if whole else None


def average(total: int, count: int, unit: int = 1) -> Decimal | None:
    """``total / unit`` per item, to one decimal (e.g. seconds as days: unit=86400)."""
    return half_up(Fraction(int(total), int(count) * unit)) if count else None


def yuan(fen: int) -> Decimal:
    """An amount summed in fen (integer), as yuan with two decimals."""
    return (Decimal(int(fen)) / 100).quantize(FEN)
