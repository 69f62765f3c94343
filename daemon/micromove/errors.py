"""Errors a person can act on. The CLI prints them on one line each and exits 2.

Everything an error names that came from outside (a config key or value, a
file name, a trace's field, a command-line argument, a socket message) goes
through `quote` (or, for a whole message, `one_line`), so that a newline, tab,
carriage return, escape sequence or other unprintable character in it can
neither split the error over two lines nor hide what is really there.
"""

from __future__ import annotations

_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", '"': '\\"'}


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _plain(text: str) -> bool:
    return text.isprintable() and text == text.strip() and text != "" and not any(
        c in text for c in ('"', "\\")
    ) and ": " not in text


def quote(text: str, always: bool = False, limit: int | None = None) -> str:
    """How an error names `text`: as it is when it is plain (printable, no
    leading or trailing space, no quote, backslash or ': '), otherwise (or
    with `always`) in double quotes with every such character escaped:
    `"activity.\\n\\n    "`, `"\\x1b[31m"`, `""`. Printable non-ASCII (`é`)
    stays as it is. With `limit`, a quoted text longer than that many
    characters is cut and ends in `..."`.
    """
    if not always and _plain(text) and (limit is None or len(text) <= limit):
        return text
    out = ['"']
    size = 1
    for c in text:
        part = c if c.isprintable() and c not in _ESCAPES else _escape(c)
        if limit is not None and size + len(part) > limit - 4:
            out.append("...")
            break
        out.append(part)
        size += len(part)
    out.append('"')
    return "".join(out)


def one_line(text: str) -> str:
    """`text` with every unprintable character (newline, tab, CR, escape, ...)
    escaped, and no quotes added: a message line that cannot become two."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


class UsageError(Exception):
    """Bad input from the person: an argument, a file, a message. Exit status 2."""

    exit_status = 2

    def lines(self) -> list[str]:
        """The error as printed: one line (never more), unprintables escaped."""
        return [one_line(str(self))]


class ConfigError(UsageError):
    """Every problem found in a config, each as 'FILE:LINE: key.path: what is wrong'."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = list(errors)

    def lines(self) -> list[str]:
        return [one_line(e) for e in self.errors]


class TraceError(UsageError):
    """A trace line that is not a valid event: names the file and line."""

    def __init__(self, source: str, line: int | None, message: str):
        where = quote(source) if line is None else f"{quote(source)}:{line}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.message = message


class StoreError(UsageError):
    """A database that cannot be used as it is (damaged, newer schema, permissions)."""


class ForeignDatabase(StoreError):
    """A database path that names a file micromove did not write (a typo, another program's file)."""
