"""Registration points: how a lower module uses what a higher feature provides.

Imports run one way (README, "Layout"): a feature builds on the ones below it and
never imports one above. Where a lower module still needs something a higher feature
owns (the workflow asking screening whether the parties were screened, access asking
which parties are protected), the lower module declares a ``Slot`` and calls it; the
owning feature fills it in its ``init_app``, which the app factory's wiring calls.
Where a lower module only announces that something happened (a workflow step was
taken, a diary entry was written), it sends a blinker signal and the interested
features connect to it in the same way.
"""
from collections.abc import Callable


class Slot:
    """One function a lower module calls and a higher feature provides at app start."""

    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.__doc__ = doc or name
        self._fn: Callable | None = None

    def provide(self, fn: Callable) -> Callable:
        """Fill the slot (again: the same function for every app)."""
        self._fn = fn
        return fn

    def __call__(self, *args, **kwargs):
        """Call the provided function.

        :raise RuntimeError: nothing was provided (the owning feature's ``init_app`` was not called).
        """
        if self._fn is None:
            raise RuntimeError(f"nothing provides {self.name!r}: is the owning feature's init_app called?")
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Slot {self.name}>"
