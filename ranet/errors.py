"""The library's errors: each ``str(err)`` is one line a person can act on, never a traceback.

Commands print them and exit with code 2 (1 for images that could not be read); the app shows
them in its status bar or a dialog.
"""

from __future__ import annotations

__all__ = ["RANetError", "ConfigError", "CheckpointError", "DataError", "ImageLoadError", "UsageError", "expected", "one_line"]


class RANetError(Exception):
    """Base of every error the library raises on bad input."""


class ConfigError(RANetError, ValueError):
    """A configuration that cannot describe a RANet, or an ``args.txt`` that does not parse."""


class CheckpointError(RANetError, ValueError):
    """A model file that cannot be used; the message names the file and the reason."""


class DataError(RANetError, RuntimeError):
    """A data set that is missing or malformed; the message says which file and why."""


class ImageLoadError(RANetError):
    """An image that cannot be classified."""


class UsageError(RANetError):
    """A problem with a command line or the files it names."""


def expected(exc: BaseException) -> bool:
    """Bad input rather than a bug: ValueErrors (ConfigError and CheckpointError among them) and
    ImageLoadError already read as one line a person can act on."""
    return isinstance(exc, (ValueError, ImageLoadError))


def one_line(exc: BaseException) -> str:
    """A message for a person: expected errors as they are, others with their type; the first line only."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if text and expected(exc) else f"{type(exc).__name__}: {text or 'no details'}"
