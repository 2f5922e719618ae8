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
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes, *, force: bool = False,
                protect: tuple[Path, ...] = ()) -> int:
    """Write ``data`` to ``path`` atomically; return the number of bytes written."""
    with atomic_write(path, force=force, protect=protect) as fh:
        fh.write(data)
    return len(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
