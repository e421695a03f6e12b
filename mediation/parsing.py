"""Numbers and ids from query strings and forms: ASCII digits only, range-checked.

``str.isdigit()`` says yes to "²" and "①" (which ``int()`` then refuses), and ``int()``
takes numbers no database column holds; both made server errors. Everything that turns
request text into an integer goes through here."""
import re

MAX_ID = 2**31 - 1  # the database's integer ids end here
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
