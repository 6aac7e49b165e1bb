"""selection.files: atomic file writes and the JSON and checksum helpers."""

from __future__ import annotations

import hashlib

import pytest

from selection.files import file_sha256, read_json, write_atomic, write_json


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = tmp_path / "works.parquet"
    write_atomic(path, b"previous")

    def failing_writer(temporary):
        temporary.write_bytes(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, failing_writer)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["works.parquet"]


def test_a_writer_replaces_the_file(tmp_path):
    path = tmp_path / "out.txt"
    write_atomic(path, b"old")
    write_atomic(path, lambda temporary: temporary.write_text("new"))
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_json_round_trips_with_chinese_text_and_a_final_newline(tmp_path):
    path = tmp_path / "manifest.json"
    write_json(path, {"学科": "数学", "works": [1, 2]})
    assert read_json(path) == {"学科": "数学", "works": [1, 2]}
    assert path.read_text(encoding="utf-8").endswith("}\n") and "数学" in path.read_text(encoding="utf-8")


def test_file_sha256_is_the_digest_of_the_bytes(tmp_path):
    path = tmp_path / "data.bin"
    data = bytes(range(256)) * 10_000  # more than one read block
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
