"""Ctrl-C, SIGTERM and SIGHUP: each ends a command in one line, with exit code 128 + the signal's
number (130, 143, 129) and no temporary file left."""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Iterator

import click

from ..io.files import writing

# the signals that stop a run as Ctrl-C does, where the platform has them
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))
_came: list[signal.Signals] = []  # the signals that stopped this process, in order


class Interrupted(click.ClickException):
    """A command stopped by one of :data:`SIGNALS`; its exit code is 128 + the signal's number."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def interruption() -> tuple[str, int]:
    """What stopped the run in words ('interrupted', 'interrupted by SIGTERM') and its exit code."""
    by = _came[0] if _came else signal.SIGINT
    return ("interrupted" if by == signal.SIGINT else f"interrupted by {by.name}"), 128 + by


def _stopping(signum: int) -> None:
    """Note the signal that came; a SIGTERM or SIGHUP coming next must not break the clean-up."""
    _came.append(signal.Signals(signum))
    for other in SIGNALS:
        if other != signal.SIGINT:
            signal.signal(other, signal.SIG_IGN)


def _on_signal(signum: int, frame: object) -> None:
    """Roll back a write in progress; otherwise nothing is on disk yet, so stop at once.

    Raising KeyboardInterrupt while a Numba kernel calls back into Python can crash the process,
    so it is raised only where files need cleaning up."""
    _stopping(signum)
    if writing():
        raise KeyboardInterrupt
    text, code = interruption()
    with contextlib.suppress(OSError):  # a hangup may have closed the terminal
        click.echo(f"quantize: error: {text}", err=True)
    os._exit(code)


def handle_signals() -> None:
    """Make each of :data:`SIGNALS` end this command as Ctrl-C does (call from the main thread)."""
    _came.clear()
    for signum in SIGNALS:
        signal.signal(signum, _on_signal)


@contextlib.contextmanager
def raised_as_ctrl_c() -> Iterator[None]:
    """Within, each of :data:`SIGNALS` raises KeyboardInterrupt at once, for a caller that stops
    its work itself (a batch stops its workers and releases their semaphores, which a process
    killed outright leaves to multiprocessing's resource tracker, which warns)."""
    def stop(signum: int, frame: object) -> None:
        _stopping(signum)
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, stop) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
