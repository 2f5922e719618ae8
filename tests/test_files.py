"""Writing outputs safely: never half-written, never over the input, all or nothing, full disks."""

from __future__ import annotations

import errno
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from quantize.io import files
from quantize.errors import OutputError
from quantize.io.files import atomic_write, check_target, check_writable, ensure_dir, write_all, write_bytes


def listing(folder: Path) -> list[str]:
    """Every name in ``folder``, hidden temporary files included."""
    return sorted(os.listdir(folder))


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_atomic_write_creates_the_file_with_normal_permissions(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_write(target) as fh:
        fh.write(b"abc")
        assert listing(tmp_path) != ["out.bin"]  # still under a temporary name
    assert target.read_bytes() == b"abc" and listing(tmp_path) == ["out.bin"]
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_writing_never_widens_the_process_umask(tmp_path, monkeypatch):
    """A library caller's other threads make files meanwhile: the umask is read, not set to 0."""
    mask = os.umask(0o027)
    set_to = []

    def umask(value):
        set_to.append(value)
        return real(value)

    real = os.umask
    monkeypatch.setattr(os, "umask", umask)
    try:
        write_bytes(tmp_path / "out.bin", b"abc")
    finally:
        real(mask)
    assert all(value & 0o077 == 0o077 for value in set_to), set_to
    assert (tmp_path / "out.bin").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604, 0o444])
def test_a_replaced_file_keeps_its_permissions(tmp_path, mode):
    """--force replaces a file as cp onto it does: a private file stays private, none is widened."""
    one, two = tmp_path / "one.png", tmp_path / "two.qnt"
    for path in (one, two):
        path.write_bytes(b"previous")
        os.chmod(path, mode)
    write_bytes(one, b"new", force=True)
    write_all({two: b"new", tmp_path / "three.h": b"new"}, force=True)
    assert [one.read_bytes(), two.read_bytes()] == [b"new", b"new"]
    assert [os.stat(p).st_mode & 0o7777 for p in (one, two)] == [mode, mode]
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(tmp_path / "three.h").st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root may give a file to another user")
def test_a_file_replaced_by_root_keeps_its_owner_and_group(tmp_path):
    """--force run as root made a replaced user's file root's, as sed -i and install do not."""
    one, two = tmp_path / "one.png", tmp_path / "two.qnt"
    for path, owner in ((one, (1234, 1234)), (two, (1234, 4321))):
        path.write_bytes(b"previous")
        os.chown(path, *owner)
        os.chmod(path, 0o600)  # private: root's copy would lock the user out of their file
    write_bytes(one, b"new", force=True)
    write_all({two: b"new", tmp_path / "three.h": b"new"}, force=True)
    assert [(os.stat(p).st_uid, os.stat(p).st_gid) for p in (one, two)] == [(1234, 1234),
                                                                            (1234, 4321)]
    assert [os.stat(p).st_mode & 0o777 for p in (one, two)] == [0o600, 0o600]
    assert os.stat(tmp_path / "three.h").st_uid == 0  # a new file is the writer's


@pytest.mark.parametrize("group_given", [True, False])
def test_a_user_not_root_gives_a_replaced_file_its_group_where_they_may(tmp_path, monkeypatch,
                                                                        group_given):
    """Not root, the process may not give a file another owner: the file is written anyway, with
    the group alone where the user is in it (as sed -i does), else as the process's."""
    target = tmp_path / "one.png"
    target.write_bytes(b"previous")
    owner = os.stat(target).st_uid, os.stat(target).st_gid
    asked = []

    def chown(path, uid, gid):  # as for a file of another owner, in a group the user is or not in
        asked.append((uid, gid))
        if uid != -1 or not group_given:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "chown", chown)
    write_bytes(target, b"new", force=True)
    write_all({target: b"newer", tmp_path / "two.h": b"new"}, force=True)
    assert target.read_bytes() == b"newer" and listing(tmp_path) == ["one.png", "two.h"]
    assert asked == [owner, (-1, owner[1])] * 2


def test_a_file_is_replaced_where_the_os_has_no_chown(tmp_path, monkeypatch):
    """Windows' os module has no chown: replacing a file there must not stop at it."""
    monkeypatch.delattr(os, "chown")
    target = tmp_path / "one.png"
    target.write_bytes(b"previous")
    write_bytes(target, b"new", force=True)
    assert target.read_bytes() == b"new" and listing(tmp_path) == ["one.png"]


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     KeyboardInterrupt(), ValueError("bug")])
def test_failure_mid_write_leaves_the_previous_file_and_no_temporary(tmp_path, failure):
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous")
    with pytest.raises(OutputError if isinstance(failure, OSError) else type(failure)) as info:
        with atomic_write(target, force=True) as fh:
            fh.write(b"half")
            raise failure
    if isinstance(failure, OSError):
        assert "No space left on device" in str(info.value) and "\n" not in str(info.value)
    assert target.read_bytes() == b"previous" and listing(tmp_path) == ["out.bin"]


def test_ctrl_c_right_after_the_temporary_is_created_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C raises between any two steps: here just after the temporary file's creation, before
    any name of it is returned (the window where a batch once left a manifest's .part behind)."""
    target = tmp_path / "manifest.csv"
    target.write_bytes(b"previous")
    real_open = os.open

    def open_then_interrupt(path, flags, *args):
        fd = real_open(path, flags, *args)
        if flags & os.O_CREAT:
            os.close(fd)
            raise KeyboardInterrupt
        return fd

    monkeypatch.setattr(os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_bytes(target, b"new", force=True)
    assert target.read_bytes() == b"previous" and listing(tmp_path) == ["manifest.csv"]


@pytest.mark.parametrize("call", ["os.replace", "os.link", "os.fsync"])
def test_failing_rename_link_or_sync(tmp_path, monkeypatch, call):
    target = tmp_path / "out.bin"
    monkeypatch.setattr(call, enospc)
    with pytest.raises(OutputError, match="No space left"):
        write_bytes(target, b"data", force=call == "os.replace")
    assert listing(tmp_path) == []


def test_existing_output_needs_force_and_folders_are_refused(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(OutputError, match=r"already exists \(use force=True"):
        write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert write_bytes(target, b"new", force=True) == 3 and target.read_bytes() == b"new"
    with pytest.raises(OutputError, match="is a folder"):
        write_bytes(tmp_path, b"x", force=True)


def test_output_appearing_after_the_check_is_not_replaced(tmp_path, monkeypatch):
    """Without --force the file is linked into place, so a racing writer's file survives."""
    target = tmp_path / "out.bin"
    sync = files._sync

    def racing_sync(fh):
        sync(fh)
        target.write_bytes(b"theirs")

    monkeypatch.setattr(files, "_sync", racing_sync)
    with pytest.raises(OutputError, match="already exists"):
        write_bytes(target, b"mine")
    assert target.read_bytes() == b"theirs" and listing(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("link", ["same path", "symlink", "hard link", "relative"])
def test_the_input_is_never_overwritten(tmp_path, monkeypatch, link):
    source = tmp_path / "photo.png"
    source.write_bytes(b"input")
    target = {"same path": source, "symlink": tmp_path / "sym.png", "hard link": tmp_path / "hard.png",
              "relative": Path("sub/../photo.png")}[link]
    (tmp_path / "sub").mkdir()
    if link == "symlink":
        target.symlink_to(source)
    elif link == "hard link":
        os.link(source, target)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="refusing to overwrite the input"):
        write_bytes(target, b"output", force=True, protect=(source,))
    assert source.read_bytes() == b"input"


def test_write_all_writes_every_file(tmp_path):
    outputs = {tmp_path / "a": b"1", tmp_path / "b": b"22"}
    write_all(outputs)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {"a": b"1", "b": b"22"}


def test_write_all_checks_every_target_before_writing(tmp_path):
    (tmp_path / "b").write_bytes(b"old")
    with pytest.raises(OutputError, match="already exists"):
        write_all({tmp_path / "a": b"1", tmp_path / "b": b"2"})
    assert listing(tmp_path) == ["b"]


@pytest.mark.parametrize("fail_at", ["second write", "second rename", "interrupt after first rename"])
def test_write_all_is_all_or_nothing_and_keeps_previous_outputs(tmp_path, monkeypatch, fail_at):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"old a")
    b.write_bytes(b"old b")
    replace, sync = os.replace, files._sync

    def flaky_replace(src, dst):
        if Path(dst) == b and fail_at == "second rename":
            enospc()
        replace(src, dst)
        if Path(dst) == a and fail_at.startswith("interrupt"):
            raise KeyboardInterrupt

    def flaky_sync(fh):
        if fh.name.startswith(str(tmp_path / ".b.")) and fail_at == "second write":
            enospc()
        sync(fh)

    monkeypatch.setattr(os, "replace", flaky_replace)
    monkeypatch.setattr(files, "_sync", flaky_sync)
    with pytest.raises(KeyboardInterrupt if fail_at.startswith("interrupt") else OutputError):
        write_all({a: b"new a", b: b"new b"}, force=True)
    assert (a.read_bytes(), b.read_bytes()) == (b"old a", b"old b")
    assert listing(tmp_path) == ["a", "b"]


def test_a_second_ctrl_c_does_not_cut_the_clean_up_short(tmp_path, monkeypatch):
    """Ctrl-C after the first of two files is placed; another lands in each clean-up step (the
    previous file put back, each temporary file removed): every step still runs, and the
    interrupt comes out once."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"old a")
    b.write_bytes(b"old b")
    replace, unlink = os.replace, Path.unlink
    struck: set = set()

    def once(step, key):  # a Ctrl-C the first time each step runs
        if key not in struck:
            struck.add(key)
            raise KeyboardInterrupt
        return step()

    def interrupted_replace(src, dst):
        if Path(src).name.endswith(".old"):  # putting a's previous file back
            return once(lambda: replace(src, dst), ("restore", dst))
        replace(src, dst)
        if Path(dst) == a:
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted_replace)
    monkeypatch.setattr(Path, "unlink", lambda self, *args: once(lambda: unlink(self, *args), self))
    with pytest.raises(KeyboardInterrupt):
        write_all({a: b"new a", b: b"new b"}, force=True)
    assert (a.read_bytes(), b.read_bytes()) == (b"old a", b"old b")
    assert listing(tmp_path) == ["a", "b"] and len(struck) >= 3


def test_write_all_removes_new_files_when_a_later_one_fails(tmp_path, monkeypatch):
    link = os.link

    def flaky_link(src, dst):
        if Path(dst).name == "b":
            enospc()
        link(src, dst)

    monkeypatch.setattr(os, "link", flaky_link)
    with pytest.raises(OutputError, match="No space left"):
        write_all({tmp_path / "a": b"1", tmp_path / "b": b"2"})
    assert listing(tmp_path) == []


def test_file_systems_without_hard_links_still_work(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    (tmp_path / "b").write_bytes(b"old")
    write_all({tmp_path / "a": b"1", tmp_path / "b": b"2"}, force=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {"a": b"1", "b": b"2"}


def test_longest_file_name_gets_a_temporary_name_that_fits(tmp_path):
    target = tmp_path / ("n" * 251 + ".qnt")  # 255 bytes, the usual limit
    assert write_bytes(target, b"x") == 1 and target.read_bytes() == b"x"


def test_too_long_or_undecodable_names_give_one_line(tmp_path):
    with pytest.raises(OutputError, match="File name too long"):
        write_bytes(tmp_path / ("n" * 256), b"x")
    odd = tmp_path / os.fsdecode(b"caf\xe9.qnt")
    odd.write_bytes(b"old")
    with pytest.raises(OutputError, match=r"caf\\xe9\.qnt already exists"):
        write_bytes(odd, b"x")


def test_check_writable_and_ensure_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=f"^output folder {blocker} is a file, not a folder$"):
        check_writable(blocker)
    with pytest.raises(OutputError, match=f"^output folder {blocker / 'sub'} is not a folder "
                                          f"\\({blocker} is a file\\)$"):
        check_writable(blocker / "sub")
    for folder in (blocker, blocker / "sub"):
        with pytest.raises(OutputError, match="not a folder|cannot create"):
            ensure_dir(folder)
    for file in (blocker / "x.gif", blocker / "sub" / "x.gif"):
        with pytest.raises(OutputError, match=f"^cannot write {file}: {blocker} is a file, not a "
                                              f"folder$"):
            check_writable(file.parent, file=file)
    with pytest.raises(OutputError, match="too long"):
        check_writable(tmp_path / ("d" * 300) / "sub")
    check_writable(tmp_path / "new" / "deeper")
    assert ensure_dir(tmp_path / "new" / "deeper").is_dir()


def test_folders_made_before_a_full_disk_are_removed_again(tmp_path, monkeypatch):
    """-o out/a/b on a disk with room for two more folders: the two are not left behind."""
    mkdir = os.mkdir

    def full_at_b(path, *args):
        if Path(path).name == "b" and Path(path).parent.is_dir():
            enospc()
        mkdir(path, *args)

    monkeypatch.setattr(os, "mkdir", full_at_b)
    with pytest.raises(OutputError, match="cannot create output folder .*: No space left"):
        with files.output_folder(tmp_path / "out" / "a" / "b"):
            pass
    assert listing(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(OutputError, match="not writable"):
        check_writable(locked / "sub")


def test_check_target_allows_a_missing_file(tmp_path):
    check_target(tmp_path / "new.qnt")


@pytest.fixture
def tiny_disk(tmp_path):
    """A 200 kB tmpfs (needs root and mount; skipped otherwise)."""
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)],
                          capture_output=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a small tmpfs: {proc.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_really_full_disk(tiny_disk):
    small, big = tiny_disk / "small", tiny_disk / "big"
    small.write_bytes(b"previous")
    with pytest.raises(OutputError, match="No space left on device"):
        write_all({small: b"s" * 1000, big: os.urandom(400_000)}, force=True)
    assert small.read_bytes() == b"previous" and listing(tiny_disk) == ["small"]
    with pytest.raises(OutputError, match="No space left on device"):
        write_bytes(small, os.urandom(400_000), force=True)
    assert small.read_bytes() == b"previous" and listing(tiny_disk) == ["small"]
