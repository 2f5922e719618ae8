"""The project's error types. The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")  # an options class with a validated() method


class QuantizeError(Exception):
    """Base class: a problem the user can fix, reported without a traceback.

    The message names the library's parameters (``n_init``); ``parameters`` lists the names it
    cites, so that the command line can put its own flags in their place (``--n-init``)."""

    exit_code = 1

    def __init__(self, message: str, *, parameters: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.parameters = parameters


class InputError(QuantizeError):
    """The input is missing, unreadable, not an image, or refused (too large, truncated)."""

    exit_code = 3


class FormatError(QuantizeError):
    """A packed-index file or palette file is malformed, truncated, corrupt or of an unknown version."""

    exit_code = 4


class OutputError(QuantizeError):
    """An output cannot be written: folder unwritable, file exists without --force, would overwrite input."""

    exit_code = 5


class ParameterError(QuantizeError, ValueError):
    """An option value is out of range or inconsistent (e.g. K < 1 or K > 65536); a ValueError
    too, as scikit-learn's InvalidParameterError, for callers that catch that."""

    exit_code = 2


def is_whole(value: object) -> bool:
    """Whether ``value`` is an integer (Python's or NumPy's), not a bool."""
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """Whether ``value`` is a number (not a bool, not a string) that can be compared."""
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def checked_options(cls: type[T], options: T | None) -> T:
    """``options`` (``cls()`` for None) validated; a caller's FitOptions or other object in
    their place is a :class:`ParameterError`."""
    if options is None:
        options = cls()
    if not isinstance(options, cls):
        raise ParameterError(f"options must be {cls.__name__}, not {type(options).__name__} "
                             f"(a FitOptions goes in {cls.__name__}(fit=...))",
                             parameters=("options",))
    return options.validated()


def whole(name: str, value: object, least: int) -> int:
    """``value`` as a Python int, or a :class:`ParameterError` unless it is a whole number of at
    least ``least``: the one check of every count, seed and size a caller gives."""
    if not is_whole(value) or value < least:
        raise ParameterError(f"{name} must be a whole number >= {least}, got {value!r}",
                             parameters=(name,))
    return int(value)


def one_line(exc: BaseException, limit: int = 200) -> str:
    """A library's exception as the tail of a one-line message: its words on one line, cut at
    ``limit`` characters (its type's name when it says nothing)."""
    text = " ".join(str(exc).split())
    return (text[:limit] + "…" if len(text) > limit else text) or type(exc).__name__
