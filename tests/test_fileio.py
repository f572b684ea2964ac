"""atomic_write: the whole new file or the old one, with the mode a plain open() gives."""

from __future__ import annotations

import os
import stat

import pytest

from convlens.fileio import atomic_write, atomic_write_bytes, atomic_write_text


def test_text_and_bytes_land_whole_and_nothing_is_left_behind(tmp_path):
    assert atomic_write_text(tmp_path / "sub" / "a.txt", "héllo\n") == tmp_path / "sub" / "a.txt"
    assert (tmp_path / "sub" / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.txt", "b.bin", "sub"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")

    def half_then_fail(tmp):
        tmp.write_text("half of the n")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_the_file_gets_the_mode_of_a_plain_open(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
        with open(tmp_path / "plain.txt", "w") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "new.txt").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o640
