"""Errors a person can act on. The CLI prints them on one line each and exits 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the person: an argument, a file, a message. Exit status 2."""

    exit_status = 2

    def lines(self) -> list[str]:
        return [str(self)]


class ConfigError(UsageError):
    """Every problem found in a config, each as 'FILE:LINE: key.path: what is wrong'."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = list(errors)

    def lines(self) -> list[str]:
        return self.errors


class TraceError(UsageError):
    """A trace line that is not a valid event: names the file and line."""

    def __init__(self, source: str, line: int | None, message: str):
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.message = message


class StoreError(UsageError):
    """A database that cannot be used as it is (damaged, newer schema, permissions)."""


class ForeignDatabase(StoreError):
    """A database path that names a file micromove did not write (a typo, another program's file)."""
