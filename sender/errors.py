"""Typed errors. Each one says, in French, what went wrong and whether retrying may help."""

from __future__ import annotations


class AlerteError(Exception):
    """Base class: `message` is French and shown to users as is."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable


class ConfigurationError(AlerteError):
    """Missing or invalid setting (environment variable, file)."""


class RegisterError(AlerteError):
    """The register cannot be read or written."""


class RegisterUnavailable(RegisterError):
    """Transient: quota, server error, lock held, network. Retrying later may work."""

    retryable = True


class RegisterCorrupt(RegisterError):
    """The register file or sheet is not what we expect; nothing was written."""


class InputError(AlerteError):
    """A file or a value given by a user cannot be used."""
