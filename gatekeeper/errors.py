"""The one user-facing error: a cause and a fix hint, printed as a line, never a traceback."""

from __future__ import annotations


class GatekeeperError(Exception):
    """Something the user can fix: bad config, not a repo, a missing tool.

    ``exit_code`` is 2 by the command-line contract: the gate could not run.
    """

    exit_code = 2

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (hint: {self.hint})"
        return self.message


class ConfigError(GatekeeperError):
    """The configuration file is broken: names the file, the key and what to do."""


class StageError(Exception):
    """Raised by a stage when it could not do its job; the core turns it into ``error``."""

    def __init__(self, reason: str, output: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.output = output


class StageSkip(Exception):
    """Raised by a stage that has nothing to do; the core turns it into ``skipped``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
