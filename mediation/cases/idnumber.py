"""Chinese resident ID numbers (GB 11643-1999): the check digit and the birth date."""
from datetime import date

from ..crypto import normalise_id

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(value: str) -> str:
    """The one form a number is checked, stored and hashed in (``crypto.normalise_id``):
    full-width digits and letters folded to ASCII, spaces dropped, upper case."""
    return normalise_id(value)


def birth_date_of(value: str) -> date | None:
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def is_valid(value: str) -> bool:
    """18 characters, 17 digits and the right check character, a real birth date."""
    value = normalise(value)
    if len(value) != 18 or not value.isascii() or not value[:17].isdigit():
        return False
    if birth_date_of(value) is None:
        return False
    return check_digit(value[:17]) == value[17]


def sex_of(value: str) -> str:
    """'male' or 'female' from the 17th digit (odd is male)."""
    return "male" if int(value[16]) % 2 else "female"
