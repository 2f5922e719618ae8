"""Finding a batch's inputs: folders (walked once each, symlink loops cut), glob patterns and files,
and where each input's outputs go below the output folder."""

from __future__ import annotations

import contextlib
import glob
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Sequence

from ..io import manifest as mf
from ..errors import FormatError, InputError, OutputError
from ..io.files import check_writable, display_name, is_output_name, stdin_hint


@dataclass(frozen=True)
class Job:
    """One input: the file to read, its name relative to its root (POSIX: the manifest key and the
    place of its outputs below the output folder), and the absolute output folder."""

    source: str
    name: str
    out_root: str
    may_replace: bool = False  # its outputs may be replaced: the run resumed wrote them

    def targets(self, formats: Sequence[str]) -> list[Path]:
        """The files this input's outputs take in ``formats`` (``<stem>.anim.<ext>`` for a clip,
        in the formats that have an animated form)."""
        from ..animation.source import is_clip

        if is_clip(self.source):
            from ..animation.choices import FORMATS as CLIP_FORMATS
            from ..animation.run import output_paths as clip_paths

            animated = tuple(f for f in formats if f in CLIP_FORMATS)
            return list(clip_paths(self.source, self.out_dir, animated).values())
        from ..io.outputs import output_paths

        return list(output_paths(Path(self.source), self.out_dir, formats).values())

    @property
    def out_dir(self) -> Path:
        """The folder this input's outputs go to (its folder mirrored below the output folder)."""
        return Path(self.out_root) / Path(self.name).parent


@dataclass
class Plan:
    """What a batch will do: the jobs, and rows for inputs already decided (skipped, clashing)."""

    out_root: Path
    named: Path = Path()  # the output folder as the caller named it, for messages
    jobs: list[Job] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0


def plan(inputs: Sequence[str | os.PathLike[str]], out_root: str | os.PathLike[str], *,
         recursive: bool = True, force: bool = False, resume: bool = False,
         reserved: dict[str, str] | None = None, formats: Sequence[str] = ("qnt",)) -> Plan:
    """Find the images and videos among ``inputs`` (folders, glob patterns, files) and where their
    outputs go.

    Folders are walked (symlinks followed, each folder once, the output folder left out); files that
    are not images by their name are skipped, and so are videos when this installation cannot read
    them (:func:`~quantize.animation.source.reads_video`). A file named explicitly is always tried.
    The same file reached twice is taken once; two files that would take one name or one stem's
    outputs below the output folder are an :class:`InputError`. The output folder may lie inside
    an input folder only with ``force``, or with ``resume`` when it holds that folder's batch.
    ``reserved`` names files of the output folder that the batch writes itself, with what they
    are; an input whose output in ``formats`` would take one (whatever its case) is an
    :class:`InputError`. The files the batch writes in ``formats`` (an output folder that is an
    input folder holds them) are no rows.
    """
    from ..animation.source import VIDEO_SUFFIXES, reads_video
    from ..io.images import SUFFIXES
    from ..io.outputs import output_paths

    out = Path(os.path.abspath(out_root))
    result = Plan(out, Path(out_root))
    suffixes = SUFFIXES | VIDEO_SUFFIXES if reads_video() else SUFFIXES
    check_writable(result.named)
    found: list[tuple[Path, str, Path]] = []  # (file, name relative to its root, file as typed)
    for spec in inputs:
        found.extend(_expand(str(spec), out, recursive=recursive, force=force, resume=resume,
                             plan=result, suffixes=suffixes))
    seen_files: dict[tuple[int, int], int] = {}  # each file's place in ``jobs``
    names: dict[str, str] = {}
    folded: dict[str, str] = {}  # each name by its case-folded form: one file on macOS and Windows
    outputs: dict[str, tuple[str, Path]] = {}  # each job's name and .qnt, by the case-folded .qnt
    sources: set[Path] = set()
    typed: dict[str, Path] = {}  # each job's file, by its name, as the caller spelt it
    jobs: list[tuple[Path, str]] = []
    for path, name, spelt in found:
        try:
            st = path.stat()
        except OSError as exc:
            result.rows.append(mf.problem_row(name, "failed", f"cannot read: {exc.strerror}", str(path)))
            continue
        seen = seen_files.get((st.st_dev, st.st_ino))
        if seen is not None:
            result.duplicates += 1
            kept, kept_name = jobs[seen]
            if (_detour(path, name) < _detour(kept, kept_name)
                    and folded.get(name.casefold(), kept_name) == kept_name):
                del names[kept_name], typed[kept_name], folded[kept_name.casefold()]
                names[name], typed[name], folded[name.casefold()] = str(path), spelt, name
                jobs[seen] = (path, name)
            continue
        seen_files[(st.st_dev, st.st_ino)] = len(jobs)
        other = folded.get(name.casefold())
        if other is not None:
            raise _clash(typed[other], spelt, "the name", (display_name(other), display_name(name)),
                         "give their common folder instead")
        names[name], typed[name], folded[name.casefold()] = str(path), spelt, name
        sources.add(path.resolve())
        jobs.append((path, name))
    ours_folded = {file.casefold(): (file, what) for file, what in (reserved or {}).items()}
    for path, name in jobs:
        job = Job(os.path.abspath(path), name, str(out))
        packed = job.targets(("qnt",))[0]  # a clip's is <stem>.anim.qnt
        claimed = next((p for p in job.targets(formats)
                        if p.parent == out and p.name.casefold() in ours_folded), None)
        if claimed is not None:
            file, what = ours_folded[claimed.name.casefold()]
            differs = f" {display_name(file)} where case is ignored (macOS, Windows)"
            raise InputError(f"{display_name(typed[name])} takes the output "
                             f"{display_name(claimed.name)} below the output folder, the batch's "
                             f"{what}{differs * (file != claimed.name)}: rename it")
        if str(packed).casefold() in outputs:  # a.png and A.jpg: one replaces the other's outputs
            other, taken = outputs[str(packed).casefold()]
            first, second = (display_name(p.relative_to(out).with_suffix("").as_posix()) + ".*"
                             for p in (taken, packed))
            raise _clash(typed[other], typed[name], "the outputs", (first, second),
                         "rename one, or batch each into an output folder of its own")
        elif any(p.resolve() in sources for p in output_paths(path, job.out_dir).values()):
            result.rows.append(mf.problem_row(name, "failed", "an output would overwrite an input",
                                              str(path)))
        else:
            outputs[str(packed).casefold()] = name, packed
            result.jobs.append(job)
    ours = {str(out / name) for name in (mf.JSON_NAME, mf.CSV_NAME, *(reserved or {}))}
    ours.update(str(path) for job in result.jobs for path in job.targets(formats))
    result.rows = [row for row in result.rows if row["input"] not in ours]
    # rows are kept by name: of two files of one name below two inputs (each one's SOURCE.txt),
    # the one that is no job is named by its path, so that neither row replaces the other
    owners = dict(names)
    for i, row in enumerate(result.rows):
        if owners.setdefault(row["path"], row["input"]) != row["input"]:
            result.rows[i] = {**row, "path": row["input"]}
    if not result.jobs and all(row["status"] == "skipped" for row in result.rows):
        raise InputError("no images found in " + ", ".join(map(display_name, inputs))
                         + _skipped_words(result.rows))
    return result


def _clash(first: Path, second: Path, what: str, takes: tuple[str, str], remedy: str) -> InputError:
    """The error of two inputs that would write the same files, each named as typed: ``what``
    they take and its name for each (the two may differ in case)."""
    if takes[0] == takes[1]:
        taken = f"both take {what} {takes[0]}"
    else:  # one file where case is ignored
        taken = (f"take {what} {takes[0]} and {takes[1]}, which differ only in case "
                 "(one on macOS and Windows),")
    return InputError(f"{display_name(first)} and {display_name(second)} {taken} below the output "
                      f"folder: {remedy}")


def _skipped_words(rows: list[dict[str, Any]]) -> str:
    """What a batch that found no image skipped, for its error (no manifest says it): `` (2 other
    files, 1 hidden folder skipped; hidden ones are taken when named)``, or nothing."""
    from ..render.report import plural

    names = [PurePosixPath(row["path"]) for row in rows]
    hidden = [row["path"].endswith("/") for row, name in zip(rows, names) if name.name.startswith(".")]
    counts = [(len(rows) - len(hidden), "other file"), (hidden.count(False), "hidden file"),
              (hidden.count(True), "hidden folder")]
    said = ", ".join(plural(n, word) for n, word in counts if n)
    return (f" ({said} skipped{'; hidden ones are taken when named' * bool(hidden)})"
            if said else "")


def _detour(path: Path, name: str) -> tuple[bool, int]:
    """How far ``name`` strays from the file's own name, as a folder walk would give it: whether
    a symlink lies on its way below its root (the file itself or a folder), then its length."""
    steps = [path, *path.parents][:len(Path(name).parts)]
    return any(step.is_symlink() for step in steps), len(Path(name).parts)


def _expand(spec: str, out: Path, *, recursive: bool, force: bool, resume: bool, plan: Plan,
            suffixes: frozenset[str]) -> list[tuple[Path, str, Path]]:
    """The images ``spec`` names: each file, its name relative to its root, and the file as the
    caller would spell it (below ``spec``, or the leading folder of a glob, as typed)."""
    from ..animation.source import VIDEO_SUFFIXES

    path = Path(spec)
    real_out = Path(os.path.realpath(out))  # an output folder reached by a link is where it leads
    if path.is_dir():
        root = Path(os.path.abspath(path))
        real_root = Path(os.path.realpath(root))
        # a batch of this folder already there: run_batch says to resume or force it
        if ((real_out == real_root or real_root in real_out.parents) and not force
                and not _holds_batch_of(out, root)):
            if not resume:
                raise OutputError(f"output folder {display_name(plan.named)} is inside the input "
                                  f"folder {display_name(spec)} "
                                  "(use force=True to allow it)", parameters=("force=True",))
            if not _holds_batch_of(out, root):
                raise OutputError(f"output folder {display_name(plan.named)} is inside the input "
                                  f"folder {display_name(spec)} and holds no batch of it to resume "
                                  "(use force=True to allow it)", parameters=("force=True",))
        files = _walk(root, out, recursive=recursive, plan=plan)
    elif path.exists():
        return [(path, path.name, path)]
    elif glob.has_magic(spec):
        path = Path(_glob_root(spec))
        root = Path(os.path.abspath(path))
        files = sorted(Path(os.path.abspath(p)) for p in glob.glob(spec, recursive=True)
                       if not os.path.isdir(p))
        files = [f for f in files
                 if real_out not in Path(os.path.realpath(f.parent), f.name).parents]
        if not files:
            raise InputError(f"no file matches '{display_name(spec)}'")
    else:
        raise InputError(f"{display_name(spec)}: no such file or folder{stdin_hint(spec)}")
    images = []
    for f in files:
        name = f.relative_to(root).as_posix()
        if is_output_name(f.name):
            plan.rows.append(mf.problem_row(name, "skipped", "an output of quantize", str(f)))
        elif not os.path.isfile(f):
            why = ("not a regular file (a FIFO, socket or device)" if os.path.exists(f)
                   else "a broken symbolic link")
            plan.rows.append(mf.problem_row(name, "skipped", why, str(f)))
        elif f.suffix.lower() in suffixes:
            images.append((f, name, path / name))
        elif f.suffix.lower() in VIDEO_SUFFIXES:
            plan.rows.append(mf.problem_row(name, "skipped", "a video: reading it needs imageio "
                                            "with its ffmpeg plugin (pip install imageio imageio-ffmpeg: the video extra)",
                                            str(f)))
        else:
            plan.rows.append(mf.problem_row(name, "skipped", "not an image file", str(f)))
    return images


def _holds_batch_of(out: Path, root: Path) -> bool:
    """True when ``out`` holds the manifest of a batch over the folder ``root``: a row of it
    names a file of ``root`` by its name there, or (a run stopped before any row) a claim does."""
    try:
        doc = mf.read(out)
    except FormatError:
        return False
    if doc is None:
        return False
    if doc["rows"]:
        return any(_same_folder(_found_in(row), root) for row in doc["rows"] if row.get("input"))
    return any((root / name).is_file() for name in doc.get("claims") or {})


def _found_in(row: dict[str, Any]) -> Path | None:
    """The folder a manifest row's input was found in, as that run spelt it: its input's path
    less the row's path (None when the input's path does not end in it)."""
    source, parts = Path(row["input"]), Path(row["path"]).parts
    if not parts or source.parts[-len(parts):] != parts:
        return None
    return source.parents[len(parts) - 1]


def _same_folder(a: Path | None, b: Path) -> bool:
    """Whether ``a`` is the folder ``b`` however each is spelt (a link, a relative path)."""
    try:
        return a is not None and os.path.samefile(a, b)
    except OSError:  # gone since
        return False


def _glob_root(pattern: str) -> str:
    """The leading part of ``pattern`` without wildcards: the folder names are relative to."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


def _walk(root: Path, out: Path, *, recursive: bool, plan: Plan) -> list[Path]:
    """Files below ``root`` in sorted order, each folder visited once (symlink loops), ``out``
    left out however it is reached."""
    files: list[Path] = []
    visited: set[tuple[int, int]] = set()
    with contextlib.suppress(OSError):  # no output folder yet: nothing to leave out
        if not os.path.samefile(out, root):
            st = os.stat(out)
            visited.add((st.st_dev, st.st_ino))  # as if seen already

    def unreadable(exc: OSError) -> None:
        plan.rows.append(mf.problem_row(
            Path(exc.filename).relative_to(root).as_posix() + "/", "skipped",
            f"folder not readable: {exc.strerror}", exc.filename))

    def hidden(name: str, why: str) -> None:
        plan.rows.append(mf.problem_row(name, "skipped", f"{why} (a name starting with '.', "
                                        "left out as a glob leaves it)", str(root / name)))

    for folder, dirs, names in os.walk(root, followlinks=True, onerror=unreadable):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in visited:
            dirs[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        below = Path(folder).relative_to(root)
        # hidden entries (macOS's ._photo.jpg beside photo.jpg, .git/) are left out as a glob and
        # the shell leave them out, so that a folder and its glob give the same inputs
        for name in sorted(d for d in dirs if d.startswith(".")) if recursive else ():
            with contextlib.suppress(OSError):
                seen = os.stat(os.path.join(folder, name))
                if (seen.st_dev, seen.st_ino) not in visited:  # the output folder is no row
                    hidden((below / name).as_posix() + "/", "a hidden folder")
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        # every entry that is not a folder, so that FIFOs and sockets are counted as skipped
        for name in sorted(names):
            if os.path.isdir(os.path.join(folder, name)):
                continue
            if name.startswith("."):
                hidden((below / name).as_posix(), "a hidden file")
            else:
                files.append(Path(folder, name))
    return files
