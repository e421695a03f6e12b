"""The ID-number keys at start-up: found, never made anew over stored data, and compared
with the check value kept in the database (``services``); ``flask keys check|rotate``
(``cli``)."""
from .services import KEY_COMMANDS, KeyProblem, examine, init_app  # noqa: F401
