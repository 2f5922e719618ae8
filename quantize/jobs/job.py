"""The one routine every job's files go through: plan the outputs, check them before any work, load
the input once, compute, then write every file all or nothing, never over the input.

Compress, the searched compress, sweep, palette export and animate differ only in what they compute
and which files they plan; :class:`FileJob` is the rest, so they cannot drift apart.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterable, TypeVar, Union

from ..io.files import check_target, check_writable, output_folder, write_all
from ..io.images import DEFAULT_MAX_PIXELS, Image, load_image, refuse_packed

T = TypeVar("T")
#: A job's files by path, as bytes or as the function that encodes them once the input is let go.
Outputs = Union[dict[Path, bytes], Callable[[], dict[Path, bytes]]]


def pixel_limit(max_pixels: int | None = DEFAULT_MAX_PIXELS, allow_huge: bool = False) -> int | None:
    """The decoded-size guard of a job: none with ``allow_huge`` or ``max_pixels=None`` (as
    :func:`~quantize.io.images.load_image` takes it), else ``max_pixels``."""
    return None if allow_huge else max_pixels


@dataclass(frozen=True)
class FileJob:
    """One input and every file a job will write from it."""

    source: Path
    targets: tuple[Path, ...]
    force: bool = False
    max_pixels: int | None = DEFAULT_MAX_PIXELS  # None: no decompression-bomb guard

    @classmethod
    def plan(cls, source: str | Path, targets: Iterable[Path], *, force: bool = False,
             max_pixels: int | None = DEFAULT_MAX_PIXELS,
             allow_huge: bool = False) -> "FileJob":
        """The job of ``source`` writing ``targets``."""
        return cls(Path(source), tuple(Path(t) for t in targets), force,
                   pixel_limit(max_pixels, allow_huge))

    def check(self) -> None:
        """Before any work: every target's folder is usable and no target is the input or, without
        ``force``, an existing file."""
        for folder in dict.fromkeys(t.parent for t in self.targets):
            check_writable(folder)
        if any(os.path.realpath(t) == os.path.realpath(self.source) for t in self.targets):
            refuse_packed(self.source)  # compress photo.qnt: the input's fault, not its output's name
        for target in self.targets:
            check_target(target, force=self.force, protect=(self.source,))

    def load(self) -> Image:
        """The input image, decoded once."""
        return load_image(self.source, max_pixels=self.max_pixels)

    def write(self, outputs: dict[Path, bytes]) -> None:
        """Write ``outputs`` (planned targets only) all or nothing; folders made for a failed write
        are removed again."""
        unplanned = set(outputs) - set(self.targets)
        if unplanned:
            raise ValueError(f"outputs not planned: {sorted(map(str, unplanned))}")
        if not outputs:
            return
        with contextlib.ExitStack() as folders:
            for folder in sorted({path.parent for path in outputs}):
                folders.enter_context(output_folder(folder))
            write_all(outputs, force=self.force, protect=(self.source,))

    def run(self, compute: Callable[[Image], tuple[T, Outputs]],
            image: Image | None = None, *, prepare: Callable[[], object] | None = None,
            stage: Callable[[str], ContextManager[object]] = lambda name: contextlib.nullcontext()) -> T:
        """Check; ``prepare`` (e.g. load kernels in a side thread) and load the input (unless
        ``image`` is given); ``compute`` the value and the files; write them. Files given as a
        function are encoded after this job lets its input go, so a large image's pixels and the
        encoders' buffers are never held at once. ``stage`` times the load and the write."""
        self.check()
        with stage("load"):
            if prepare is not None:
                prepare()
            if image is None:
                image = self.load()
        value, outputs = compute(image)
        del image
        with stage("write"):
            self.write(outputs() if callable(outputs) else outputs)
        return value
