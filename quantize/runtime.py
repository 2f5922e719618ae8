"""Every process-level setting quantize makes, in one place, switched on only by processes that run
nothing but quantize: the command line (:func:`enable`) and its batch workers (:func:`enable_worker`).

Importing the library and calling it change nothing process-wide: no environment variable, no
Pillow limit, no import hook, no patched Numba class, no exit handler.
"""

from __future__ import annotations

import atexit
import importlib.abc
import os
import sys
from typing import Any, Callable

#: Numba releases whose private ``Cache.load_overload`` the lean kernel loading was tested with
#: (the same range pyproject.toml pins); outside it kernels load as Numba likes.
TESTED_NUMBA = ((0, 59), (0, 69))

MMAP_THRESHOLD = 16 << 20  # bytes: blocks this large are mapped apart and unmapped when freed
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
COMPILE_SECONDS = 60  # the bound the first-run note gives (as README's set-up section does)
LEAN_OFF = "QUANTIZE_LEAN_START"  # "0": the command line loads kernels with Numba's full refresh

_lean = False  # whether this process asked for lean kernel loading
_notify: Callable[[str], None] | None = None  # prints a note on the first-run compile
_listening = False  # whether the first-compile listener is installed
_exit_code: int | None = None  # set by quick_exit(): skip the interpreter's teardown with this code


COMPILING = "compiling the Numba kernels once (up to {seconds} s)…"


def enable(notify: Callable[[str], None] | None = None) -> None:
    """Make this process a quantize command-line process.

    - OpenMP threads that wait for work sleep rather than spin, since spinning between parallel
      regions steals the core a batch worker computes on (a user's ``OMP_WAIT_POLICY`` stands;
      inherited by the workers).
    - Pillow's own decompression-bomb check is off: the command line applies its own limit, which
      ``--allow-huge`` lifts.
    - Cached kernels load lean (see :func:`lean_kernel_loading`), unless ``QUANTIZE_LEAN_START=0``.
    - ``notify`` (a note on stderr) is told when the kernels are about to be compiled, since the
      first run would otherwise sit silent for that long.
    - :func:`quick_exit` leaves without the interpreter's teardown.
    - Freed large blocks go back to the system (:func:`return_large_blocks`).
    - imageio's ffmpeg backend logs only errors: its warning that a rotated video's frames are
      another size than the stream's would stand between a report's lines, even with ``-q``.
    """
    global _notify
    import logging

    from PIL import Image

    _notify = notify
    logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    Image.MAX_IMAGE_PIXELS = None
    if os.environ.get(LEAN_OFF) != "0":
        lean_kernel_loading()
    atexit.register(_skip_teardown)  # registered first, so it runs after every other handler
    return_large_blocks()


def enable_worker(lean: bool) -> None:
    """Make this process a batch worker: one Numba thread, lean loading as its parent, quick exit,
    large blocks returned."""
    return_large_blocks()
    if "numba" in sys.modules:
        # A forked worker: Numba has read its configuration already, and refuses a new thread
        # count in the environment once its threads run; its own setter works.
        import numba

        numba.set_num_threads(1)
    else:
        os.environ["NUMBA_NUM_THREADS"] = "1"  # a spawned worker: read when Numba loads
    if lean:
        lean_kernel_loading()
    # a worker's results are sent and its queues closed once multiprocessing's handlers ran
    atexit.register(os._exit, 0)


def return_large_blocks() -> None:
    """Have glibc's malloc give every block of :data:`MMAP_THRESHOLD` or more back to the system
    when it is freed (elsewhere: nothing).

    By default glibc raises that threshold after each large free, up to 32 MiB, so a large image's
    temporaries of a few tens of MB then come from the heap, which keeps them once they are freed,
    and the peak memory grows by each stage's leftovers (docs/TUNING.md).
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a C library without mallopt (musl)
        return
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def lean() -> bool:
    """Whether this process loads cached kernels lean."""
    return _lean


def quick_exit(code: int) -> None:
    """Leave with ``code``: exit handlers run (worker pools join there), the interpreter's teardown
    does not, since unloading Numba's compiled code takes longer than some whole runs."""
    global _exit_code
    _exit_code = code
    sys.exit(code)


def _skip_teardown() -> None:
    if _exit_code is not None:
        os._exit(_exit_code)


# ------------------------------------------------------------------------------ lean kernel loading

def lean_kernel_loading() -> None:
    """Load cached kernels without Numba's compiler refresh, once Numba loads (at the first kernel).

    Before it loads a kernel from the disk cache, Numba imports and registers every implementation
    it could compile with (scipy.linalg among them); a cached kernel needs only Numba's runtime.
    A kernel that has to be compiled still gets the full refresh from Numba's compiler. Numba is
    also imported without SciPy and PyYAML, which it does not need here (see :class:`_NotForNumba`).
    """
    global _lean
    _lean = True
    if "quantize.core.kernels" in sys.modules:  # e.g. a forked worker whose parent imported them
        prepare_kernels()


def prepare_kernels() -> None:
    """Called as :mod:`quantize.core.kernels` is imported: apply lean loading if this process asked,
    and say so when the kernels are about to be compiled, if this process listens."""
    if _lean:
        _patch_cache_loads()
    if _notify is not None:
        _announce_compiling()


def _announce_compiling() -> None:
    """Tell ``_notify`` once, as Numba starts its first compile in this process (a kernel missing
    from the disk cache), that the kernels are being compiled: a command that compiles nothing
    says nothing."""
    global _listening
    if _listening:
        return
    _listening = True
    from numba.core import event

    class FirstCompile(event.Listener):
        told = False

        def on_start(self, ev: event.Event) -> None:
            if not self.told and _notify is not None:
                self.told = True
                _notify(COMPILING.format(seconds=COMPILE_SECONDS))

        def on_end(self, ev: event.Event) -> None:
            pass

    event.register("numba:compile", FirstCompile())


class _NotForNumba(importlib.abc.MetaPathFinder):
    """While Numba is imported: Numba's own imports of two packages it does not need fail as if
    they were not installed (Numba goes on without them); anyone else's import them as usual.
    SciPy is imported only to check its version; PyYAML only to read a ``.numba_config.yaml`` in
    the working folder, so it stays when there is one."""

    def __init__(self) -> None:
        self.names = {"scipy"} if os.path.isfile(".numba_config.yaml") else {"scipy", "yaml"}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name in self.names and _importer().startswith("numba"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _importer() -> str:
    """The module whose import statement is being run (past importlib's frames and this one's)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
            ("importlib", "_frozen_importlib", __name__)):
        frame = frame.f_back
    return "" if frame is None else frame.f_globals.get("__name__", "")


def _patch_cache_loads() -> None:
    finder = _NotForNumba()
    sys.meta_path.insert(0, finder)
    try:
        import numba
        from numba.core.caching import Cache
        from numba.core.runtime import rtsys
    except ImportError:
        return  # the kernels' own import reports it
    finally:
        sys.meta_path.remove(finder)
    load = Cache.load_overload
    if getattr(load, "_quantize_lean", False) or not numba_supports_lean(numba.__version__, load, rtsys):
        return

    def load_overload(self, sig, target_context, *args, **kwargs):
        # Numba loads under its compiler lock, so no other thread sees this stand-in
        target_context.refresh = lambda: rtsys.initialize(target_context)
        try:
            return load(self, sig, target_context, *args, **kwargs)
        finally:
            del target_context.refresh

    load_overload._quantize_lean = True
    Cache.load_overload = load_overload


def numba_supports_lean(version: str, load_overload: Any, rtsys: Any) -> bool:
    """Whether this Numba is one lean loading was tested with, and its private parts have the shape
    the stand-in relies on; otherwise kernels load the ordinary way."""
    import inspect

    try:
        params = list(inspect.signature(load_overload).parameters)
    except (ValueError, TypeError):
        return False
    return (tested_numba(version) and params[:3] == ["self", "sig", "target_context"]
            and callable(getattr(rtsys, "initialize", None)))


def tested_numba(version: str) -> bool:
    """Whether ``version`` is in :data:`TESTED_NUMBA`, the releases whose private API we use."""
    try:
        release = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    low, high = TESTED_NUMBA
    return low <= release < high
