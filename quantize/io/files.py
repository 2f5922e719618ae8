"""Files in and out: the one opener every read goes through, the naming of outputs, and writing
them safely (temporary name + rename, overwrite rules).

Every file quantize reads is opened by :func:`open_input`, so a FIFO never blocks, and a missing,
unreadable or special file is one :class:`InputError` whatever the command. Every file quantize
writes goes through :func:`atomic_write` or :func:`write_all`, so an interrupted run (error,
Ctrl-C, full disk) never leaves a half-written output or a temporary file behind.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import os
import re
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, TypeVar

from ..errors import InputError, OutputError, ParameterError, one_line

T = TypeVar("T")
_TEMP_STEM = 40  # characters of the target's name kept in a temporary name (at most 160 bytes)
_TEMP_TOKEN = 6  # random bytes in a temporary name, as hex
# a temporary name: the target's name shortened, the token, and ".old" for a replaced file's backup
_TEMP_NAME = re.compile(rf"\.(.+)\.[0-9a-f]{{{2 * _TEMP_TOKEN}}}\.part(?:\.old)?", re.S)


# C0 controls and DEL as escapes, so that a file name holding a newline keeps a message one line
_CONTROLS = {code: repr(chr(code))[1:-1] for code in (*range(32), 127)}


def printable(text: str, *, line: bool = False) -> str:
    """``text`` as it can be printed: the undecodable bytes of non-UTF-8 file names in it (which
    Python keeps as lone surrogates) shown as ``\\xNN``, the same way wherever a name appears;
    with ``line``, control characters too (``\\n``, ``\\x1b``), so the text stays one line."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte: not from a file name
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.translate(_CONTROLS) if line else text


def display_name(path: str | bytes | os.PathLike) -> str:
    """The path as printable text, on one line: undecodable bytes of a non-UTF-8 name shown as
    ``\\xNN``, control characters (a newline in a name) as escapes."""
    return printable(os.fsdecode(path), line=True)


def input_path(value: object, what: str) -> Path:
    """``value`` (a str, bytes or path-like name) as a Path; anything else, or an empty name, is
    one :class:`ParameterError` naming ``what`` was wanted (a library caller's mistake)."""
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise ParameterError(f"{what} must be a file path, not {type(value).__name__}")
    name = os.fsdecode(value)
    if not name:
        raise ParameterError(f"{what} must be a file path, not an empty name")
    if "\0" in name:  # no OS takes it: a file's content given in place of its name
        raise ParameterError(f"{what} must be a file path, not a name holding a NUL byte "
                             f"(a file's content in place of its name?)")
    return Path(name)


def output_arg(value: object, what: str) -> Path | None:
    """An output folder or file a library caller gave (a str, bytes or path-like name) as a Path;
    None for None or an empty name; anything else is a :class:`ParameterError` naming ``what``."""
    if value is None or (isinstance(value, (str, bytes)) and not value):
        return None
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise ParameterError(f"{what} must be a path, not {type(value).__name__}")
    return Path(os.fsdecode(value))


# ------------------------------------------------------------------------------------ output names

#: Every image this tool writes is named ``<stem>.<tag>.<ext>`` with one of these tags
#: (``photo.preview.webp``, ``clip.anim.gif``), so that no output can take the name of an input
#: image (``photo.png`` beside ``photo.jpg``), and a batch or glob never takes an output for an input.
OUTPUT_TAGS = ("preview", "swatch", "strip", "sheet", "chart", "anim")


def tagged_name(stem: str, tag: str, ext: str = ".png") -> str:
    """The name of an output image: ``<stem>.<tag><ext>`` (``photo.swatch.png``)."""
    if tag not in OUTPUT_TAGS:
        raise ValueError(f"unknown output tag {tag!r}")
    return f"{stem}.{tag}{ext}"


def is_output_name(name: str | os.PathLike) -> bool:
    """Whether a file name is one this tool gives its output images (never taken as an input)."""
    parts = os.fsdecode(name).lower().rsplit(".", 2)
    return len(parts) == 3 and parts[1] in OUTPUT_TAGS


# ------------------------------------------------------------------------------------------ reading

def stdin_hint(path: str | bytes | os.PathLike) -> str:
    """What a missing input named ``-`` adds to its error: pngquant's user means standard input."""
    return " (quantize reads files, not standard input)" if os.fsdecode(path) == "-" else ""


@contextlib.contextmanager
def open_input(path: str | bytes | os.PathLike, kind: str = "image", *,
               allow_empty: bool = False) -> Iterator[tuple[BinaryIO, int]]:
    """Open a file quantize reads (an image, a packed or palette file, a manifest); yield the open
    file and its size. Every read goes through here, so every command refuses the same things
    the same way, as an :class:`InputError`: a missing file, a folder, a FIFO, socket or device
    (without blocking on it), a file it may not read, and an empty file unless ``allow_empty``.
    ``kind`` names the file in the messages (``"palette"``: "palette file <name> ...")."""
    name = display_name(path)
    label = name if kind == "image" else f"{kind} file {name}"
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{label} is a directory" + (", not an image file" if kind == "image" else ""))
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{label} is not a regular file (a FIFO, socket or device)")
        # O_NONBLOCK: should the path have been swapped for a FIFO since stat, open still returns.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"{label}: no such file{stdin_hint(path)}") from None
    except OSError as exc:
        raise InputError(f"cannot read {label}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{label} is not a regular file")
        if st.st_size == 0 and not allow_empty:
            raise InputError(f"{label} is empty")
        yield fh, st.st_size


def read_input(path: str | bytes | os.PathLike, kind: str = "image", *,
               allow_empty: bool = False) -> bytes:
    """The whole content of a file quantize reads, through :func:`open_input`."""
    with open_input(path, kind, allow_empty=allow_empty) as (fh, _):
        try:
            return fh.read()
        except OSError as exc:
            label = display_name(path) if kind == "image" else f"{kind} file {display_name(path)}"
            raise InputError(f"cannot read {label}: {exc.strerror or exc}") from None


def is_stream(value: object) -> bool:
    """Whether a library caller gave a file object (anything with a ``read`` method), not a name."""
    return callable(getattr(value, "read", None))


def read_stream(stream: BinaryIO, kind: str = "image") -> tuple[bytes, str]:
    """The bytes of a binary file object, from where it stands to its end, and the name to give
    it in messages; a closed or unreadable one, or an empty one, is an :class:`InputError` as a
    file is, one opened in text mode a :class:`ParameterError`."""
    name = getattr(stream, "name", None)
    name = display_name(name) if isinstance(name, (str, bytes)) else f"the {kind} stream"
    label = name if kind == "image" or name.startswith("the ") else f"{kind} file {name}"
    try:
        data = stream.read()
    except (OSError, ValueError) as exc:  # ValueError: a closed file
        raise InputError(f"cannot read {label}: {one_line(exc)}") from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ParameterError(f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} file object must be "
                             f"opened in binary mode ('rb'), not give {type(data).__name__}")
    if not data:
        raise InputError(f"{label} is empty")
    return bytes(data), name


def is_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder; a name the OS refuses (longer than the file system allows)
    is none, so that the write's own checks say why instead of an OSError here."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_target(path: Path, *, force: bool = False, protect: tuple[Path, ...] = ()) -> None:
    """Refuse to write ``path`` when it is an input in ``protect``, a folder, an unusable name, or
    exists without ``force``."""
    name = _output_name(path)
    for p in protect:
        # realpath, unlike Path.resolve, leaves a symlink loop unresolved instead of raising
        if _same_file(path, p) or os.path.realpath(path) == os.path.realpath(p):
            raise OutputError(f"refusing to overwrite the input file {display_name(p)}")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise OutputError(f"cannot write {name}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"output {name} is a folder")
    if not force:
        raise OutputError(f"output {name} already exists (use force=True to replace it)",
                          parameters=("force=True",))


def _output_name(path: Path) -> str:
    """``path``'s display name, once it is known to be a name an OS takes (a NUL byte in it is a
    library caller's mistake, as in :func:`input_path`)."""
    name = display_name(path)
    if "\0" in os.fsdecode(path):
        raise ParameterError(f"an output path must not hold a NUL byte: {name}")
    return name


def check_writable(folder: Path, *, file: Path | None = None) -> None:
    """Fail early unless ``folder`` is, or could be created as, a writable folder; ``file``, the
    file asked for in it, is what a refusal names when the caller named a file, not a folder."""
    name = _output_name(folder)
    probe = folder
    try:
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        is_dir = probe.is_dir()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise OutputError(f"cannot use output folder {name}: {exc.strerror or exc}") from None
    if probe.exists() and not is_dir:
        if file is not None:
            raise OutputError(f"cannot write {_output_name(file)}: {display_name(probe)} is a file, "
                              f"not a folder")
        if probe == folder:
            raise OutputError(f"output folder {name} is a file, not a folder")
        raise OutputError(f"output folder {name} is not a folder ({display_name(probe)} is a file)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {name} is not writable")


def ensure_dir(folder: Path) -> Path:
    """Create ``folder`` (and parents) if needed and check it is writable."""
    name = display_name(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"output folder {name} exists and is not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot create output folder {name}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {name} is not writable")
    return folder


@contextlib.contextmanager
def output_folder(folder: Path) -> Iterator[Path]:
    """:func:`ensure_dir` around a write: if the block fails, the folders created for it are
    removed again (when still empty), so a failed run leaves nothing behind."""
    created = []
    probe = folder
    while not probe.exists() and probe.parent != probe:
        created.append(probe)
        probe = probe.parent
    try:
        ensure_dir(folder)  # failing part-way, it leaves the folders made so far
        yield folder
    except BaseException:
        for made in created:  # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()
        raise


@contextlib.contextmanager
def held_folder(folder: Path, holder: str) -> Iterator[Path]:
    """:func:`output_folder`, held by this process while the block runs: another process asking
    for it meanwhile gets an :class:`OutputError` naming ``holder`` (a file system without locks,
    as some network ones, is not held)."""
    with output_folder(folder):
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks
            yield folder
            return
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutputError(f"{display_name(folder)} is being written by another {holder} "
                                  f"right now: wait for it to finish or give another folder") from None
            except OSError:
                pass
            yield folder
        finally:
            # unlocked explicitly: forked workers share the descriptor, and closing ours alone
            # would leave the lock held until they exit
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


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
    with _staged([target]) as (tmp,):
        with open(tmp, "wb") as fh:
            yield fh
            _sync(fh)
        _commit([(tmp, target)], force=force)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, force: bool = False,
                protect: tuple[Path, ...] = ()) -> int:
    """Write ``data`` to ``path`` atomically; return the number of bytes written."""
    with atomic_write(path, force=force, protect=protect) as fh:
        fh.write(data)
    return len(data)


def write_all(outputs: dict[Path, bytes], *, force: bool = False,
              protect: tuple[Path, ...] = ()) -> None:
    """Write several files all or nothing: every check first, then every file to a synced temporary
    name, then the renames. If anything fails, no output is created or changed."""
    targets = [Path(p) for p in outputs]
    for path in targets:
        check_target(path, force=force, protect=protect)
    with _staged(targets) as temps:
        for tmp, data in zip(temps, outputs.values()):
            with open(tmp, "wb") as fh:
                fh.write(data)
                _sync(fh)
        _commit(list(zip(temps, targets)), force=force)


_writes_in_progress = 0


def writing() -> bool:
    """Whether some output is being written now (an interrupt must then roll it back)."""
    return _writes_in_progress > 0


@contextlib.contextmanager
def _staged(targets: list[Path]) -> Iterator[list[Path]]:
    """Create an empty temporary file beside each target; remove whichever remain on exit.

    OS errors inside the block become an :class:`OutputError` naming the folder.
    """
    global _writes_in_progress
    temps: list[Path] = []
    _writes_in_progress += 1
    try:
        for target in targets:
            _new_temp(target, temps)
        yield temps
    except OSError as exc:
        folder = Path(exc.filename).parent if isinstance(exc.filename, str) else targets[0].parent
        raise OutputError(f"cannot write to {display_name(folder)}: {exc.strerror or exc}") from None
    finally:
        try:
            _uninterrupted(Path.unlink, temps)
        finally:
            _writes_in_progress -= 1


def _uninterrupted(step: Callable[[T], object], items: Iterable[T]) -> None:
    """Clean up: ``step`` each item (an OSError, such as a file gone already, ignored), all of them
    even if Ctrl-C lands meanwhile, and then raise that interrupt."""
    pending = collections.deque(items)
    interrupted = False
    while pending:
        try:
            while pending:
                with contextlib.suppress(OSError):
                    step(pending[0])
                pending.popleft()
        except KeyboardInterrupt:  # a second Ctrl-C: the step it cut short runs again
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt


def _new_temp(target: Path, temps: list[Path]) -> None:
    """Create an empty temporary file beside ``target``, named in ``temps`` before it exists, so an
    interrupt at any point (Ctrl-C raises anywhere) leaves no file the caller does not know of."""
    folder = target.parent if str(target.parent) else Path(".")
    while True:
        # shortened so that the temporary name fits wherever the target's does
        tmp = folder / f".{target.name[:_TEMP_STEM]}.{secrets.token_hex(_TEMP_TOKEN)}.part"
        temps.append(tmp)
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return
        except FileExistsError:
            temps.pop()


def remove_temporaries(targets: Iterable[Path]) -> None:
    """Remove the temporary files of writes to ``targets`` that a killed run (kill -9 cleans up
    nothing) left beside them."""
    stems: dict[Path, set[str]] = collections.defaultdict(set)
    for target in targets:
        stems[target.parent].add(target.name[:_TEMP_STEM])
    for folder, names in stems.items():
        try:
            entries = os.listdir(folder)
        except OSError:  # no such folder yet: nothing left in it
            continue
        for entry in entries:
            match = _TEMP_NAME.fullmatch(entry)
            if match and match.group(1) in names:
                with contextlib.suppress(OSError):
                    os.unlink(folder / entry)


def _sync(fh: BinaryIO) -> None:
    """Flush ``fh`` to the disk."""
    fh.flush()
    os.fsync(fh.fileno())


def _like_replaced(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the permission bits of the file it replaces at ``target``, as ``cp`` onto it
    keeps them (a private file stays private), without set-id or sticky bits, and that file's
    owner and group where the process may, as GNU ``sed -i`` and ``install`` do; a new file's bits
    by the umask."""
    try:
        st = os.stat(target)
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        os.chmod(tmp, 0o666 & ~_umask())
        return
    # root may give any owner; another user only a group of theirs, else the file stays theirs
    with contextlib.suppress(OSError):
        if hasattr(os, "chown"):  # not on Windows
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except PermissionError:
                os.chown(tmp, -1, st.st_gid)
    os.chmod(tmp, stat.S_IMODE(st.st_mode) & 0o777)


def _commit(pairs: list[tuple[Path, Path]], *, force: bool) -> None:
    """Move each temporary file onto its target, all or nothing.

    Without ``force`` a target is linked into place, which fails if it appeared since the checks
    (another process writing the same name) instead of silently replacing it. With several pairs,
    every replaced target is kept as a hard link until all are in place, so a failure part-way
    restores the previous files.
    """
    # (target, backup of what it replaces, identity of the new file), recorded before each move so
    # that an interrupt at any point is undone
    placed: list[tuple[Path, Path | None, tuple[int, int]]] = []
    try:
        for tmp, target in pairs:
            backup = _backup(target, tmp) if force and len(pairs) > 1 else None
            placed.append((target, backup, _identity(tmp)))
            _like_replaced(tmp, target)
            _place(tmp, target, force=force)
        _sync_folders({target.parent for _, target in pairs})
    except BaseException:
        _uninterrupted(_undo, reversed(placed))
        raise
    finally:
        _uninterrupted(Path.unlink, (tmp.with_name(tmp.name + ".old") for tmp, _ in pairs))


def _undo(placed: tuple[Path, Path | None, tuple[int, int]]) -> None:
    """Put back what a target held before, or remove it if it is the file placed there."""
    target, backup, ours = placed
    if backup is not None:
        os.replace(backup, target)
    elif _identity(target) == ours:  # never remove a file that is not ours
        target.unlink()


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _backup(target: Path, tmp: Path) -> Path | None:
    """A hard link to the existing ``target`` beside ``tmp`` (None if there is nothing to keep)."""
    backup = tmp.with_name(tmp.name + ".old")
    try:
        os.link(target, backup)
    except OSError:  # nothing there, or no hard links on this file system
        return None
    return backup


def _place(tmp: Path, target: Path, *, force: bool) -> None:
    """Rename ``tmp`` to ``target``; without ``force`` never over an existing file."""
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputError(f"output {display_name(target)} already exists (use force=True to replace "
                          "it)", parameters=("force=True",)) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        os.replace(tmp, target)  # no hard links on this file system: the check done before stands
    else:
        os.unlink(tmp)


def _sync_folders(folders: set[Path]) -> None:
    """Make the renames durable (best effort: some file systems cannot sync a folder)."""
    for folder in folders:
        with contextlib.suppress(OSError):
            fd = os.open(folder if str(folder) else ".", os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _umask() -> int:
    """The process's umask, read without setting it where the OS tells it (Linux): set even for a
    moment, it applies to the files the caller's other threads make meanwhile."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o077)  # the narrowest for that moment: another thread's file stays private
    os.umask(mask)
    return mask
