"""Numbers, ids and dates from query strings and forms: ASCII digits only, range-checked.

``str.isdigit()`` says yes to "²" and "①" (which ``int()`` then refuses), and ``int()``
takes numbers no database column holds; both made server errors. Everything that turns
request text into an integer goes through here."""
import re
from datetime import date

MAX_ID = 2**31 - 1  # the database's integer ids end here
# Days a filter may name: a day or two either side (time zones) stays inside what Python dates hold.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]{1,18}")


def ascii_int(value, lo: int = 0, hi: int = MAX_ID) -> int | None:
    """The integer written in ASCII digits, if it lies in [lo, hi]; else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if lo <= value <= hi else None
    text = str(value if value is not None else "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if lo <= number <= hi else None


def iso_day(value) -> date | None:
    """A day written YYYY-MM-DD (as a date box sends it) from 1900 to 2999, else None.
    ``date.fromisoformat`` also reads 20261231 and 2026-W49, which nobody types into a
    date box, and 0001-01-01 or 9999-12-31, which overflow once turned into UTC times."""
    if isinstance(value, date):
        return value if FIRST_DAY <= value <= LAST_DAY else None
    text = str(value if value is not None else "").strip()
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def db_id(value) -> int | None:
    """A row id (1 … 2³¹−1) or None."""
    return ascii_int(value, 1, MAX_ID)


def arg_id(value) -> int:
    """For ``request.args.get(name, type=arg_id)``: raises ValueError (so the default is
    used) for anything but a row id."""
    number = db_id(value)
    if number is None:
        raise ValueError(value)
    return number


def arg_page(value) -> int:
    """For ``request.args.get("page", 1, type=arg_page)``: a page number, 1 … 1,000,000."""
    number = ascii_int(value, 1, 1_000_000)
    if number is None:
        raise ValueError(value)
    return number


# --- numbers as people type them (ID numbers, phones) ----------------------------------
# Pasted or typed on a phone, a number comes with spaces (320482 19850302 3018), hyphens or
# dashes (138-0000-0101), full-width digits from a Chinese keyboard (３２０４…) and a
# lower-case or full-width check character (ｘ). Those are folded here, and only those:
# any other digit (², ①, ٣) stays and the number is refused, never read as another.
_FULL_WIDTH = {0xFF10 + i: 0x30 + i for i in range(10)} | {0xFF38: "X", 0xFF58: "X", 0xFF0B: "+"}
_SEPARATORS = re.compile(r"[\s\u00ad\u2010-\u2015\u2212\ufe58\ufe63\uff0d\-]+")


def typed_number(value) -> str:
    """``value`` without spaces, hyphens and dashes, full-width digits (and X, +) made ASCII."""
    return _SEPARATORS.sub("", str(value or "").translate(_FULL_WIDTH))


def id_number_typed(value) -> str:
    """An ID number in the one form it is checked, stored and hashed in: ``typed_number``,
    upper case (a trailing x or ｘ is the check character X). Other characters stay, so that
    a check refuses them."""
    return typed_number(value).upper() if value else ""


_PHONE_PREFIX = re.compile(r"^(?:\+86|0086)")
_PHONE_BRACKETS = re.compile(r"[()（）]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{8,10}")


def phone_digits(value) -> str:
    """A phone as digits only, as far as it has them: spaces, hyphens, brackets and a +86 or
    0086 prefix dropped, full-width digits folded (for matching; ``phone_number`` checks)."""
    text = _PHONE_BRACKETS.sub("", typed_number(value))
    return _PHONE_PREFIX.sub("", text)


def phone_number(value) -> str | None:
    """A typed phone in the form it is stored: a mobile as its 11 digits (13800000101), a
    landline as area code - number (0519-82812345; 010 and 02x have three-digit codes);
    "" for nothing typed; None when it is neither (then the form says what it takes)."""
    digits = phone_digits(value)
    if not digits:
        return ""
    if _MOBILE.fullmatch(digits):
        return digits
    if _LANDLINE.fullmatch(digits):
        split = 3 if digits[1] in "12" else 4
        number = digits[split:]
        if 7 <= len(number) <= 8:
            return f"{digits[:split]}-{number}"
    return None
