"""One exception tree for the whole project; messages name the file, row, customer or option."""

from __future__ import annotations

__all__ = [
    "CdnaError",
    "ConfigError",
    "SchemaError",
    "InputError",
    "LakeError",
    "LockedError",
    "NotConfirmedError",
    "StageError",
    "UnknownCustomerError",
]


class CdnaError(Exception):
    """Base class of every error Customer DNA raises on purpose.

    Attributes:
        hint: one sentence telling the user what to do about it.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}\n  → {self.hint}" if self.hint else text


class ConfigError(CdnaError):
    """A configuration or taxonomy file is missing, malformed, or has a bad value."""

    exit_code = 2


class SchemaError(CdnaError):
    """A table does not fit its written contract (missing column, unusable type)."""

    exit_code = 2


class InputError(CdnaError):
    """An input file cannot be read at all (not found, not CSV/Parquet, empty)."""

    exit_code = 2


class LakeError(CdnaError):
    """The lake folder is missing a table a stage needs, or is not a lake."""

    exit_code = 2


class LockedError(CdnaError):
    """Another run holds the lock on the same lake partition."""

    exit_code = 1


class NotConfirmedError(CdnaError):
    """A command that removes data was run without --yes (it only said what it would do)."""

    exit_code = 2


class StageError(CdnaError):
    """A stage failed outright (later stages would read stale inputs)."""

    exit_code = 1


class UnknownCustomerError(CdnaError):
    """A customer id that is not in the lake."""

    exit_code = 2
