"""Writing outputs safely: temporary name + rename, output naming, overwrite rules.

Every file quantize writes goes through :func:`atomic_write`, so an interrupted run (error, Ctrl-C,
full disk) never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from .errors import OutputError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_target(path: Path, *, force: bool = False, protect: tuple[Path, ...] = ()) -> None:
    """Refuse to write ``path`` when it is an input in ``protect``, a folder, or exists without ``force``."""
    for p in protect:
        if _same_file(path, p) or path.resolve() == Path(p).resolve():
            raise OutputError(f"refusing to overwrite the input file {p}")
    if path.is_dir():
        raise OutputError(f"output {path} is a folder")
    if path.exists() and not force:
        raise OutputError(f"output {path} already exists (use --force to replace it)")


def check_writable(folder: Path) -> None:
    """Fail early unless ``folder`` is, or could be created as, a writable folder."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise OutputError(f"output folder {folder} is not a folder ({probe} is a file)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {folder} is not writable")


def ensure_dir(folder: Path) -> Path:
    """Create ``folder`` (and parents) if needed and check it is writable."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"output folder {folder} exists and is not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {folder} is not writable")
    return folder


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], *, force: bool = False, protect: tuple[Path, ...] = ()
) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for binary writing; rename it over ``path`` on success.

    On any exception (including KeyboardInterrupt) the temporary file is removed and ``path`` is left
    as it was. OS errors are re-raised as :class:`OutputError` with a one-line message.
    """
    target = Path(path)
    check_target(target, force=force, protect=protect)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write to {folder}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes, *, force: bool = False,
                protect: tuple[Path, ...] = ()) -> int:
    """Write ``data`` to ``path`` atomically; return the number of bytes written."""
    with atomic_write(path, force=force, protect=protect) as fh:
        fh.write(data)
    return len(data)


def write_all(outputs: dict[Path, bytes], *, force: bool = False,
              protect: tuple[Path, ...] = ()) -> None:
    """Write several files all or nothing: every check first, then each atomically; if one write
    fails, the files already written by this call are removed again."""
    for path in outputs:
        check_target(path, force=force, protect=protect)
    done: list[Path] = []
    try:
        for path, data in outputs.items():
            write_bytes(path, data, force=True, protect=protect)
            done.append(path)
    except BaseException:
        for path in done:
            with contextlib.suppress(OSError):
                path.unlink()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
