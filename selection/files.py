"""Files and folders written at once: a reader, or a failure at any step, finds the old
version or the new one, never half of one.

- ``write_atomic`` writes a temporary file beside the target and renames it over it;
- ``replace_folder`` fills a fresh sibling folder and swaps it in whole (one atomic
  exchange where Linux offers ``renameat2(RENAME_EXCHANGE)``, else two renames with a
  rollback), carrying over the entries of the old folder it does not replace.

Temporary names start with ``.`` and end in ``.tmp`` (folders: ``.NAME.tmp-XXXX``), so a
killed run's leftovers are easy to recognise and remove.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from selection.errors import SelectionError


def write_atomic(path: str | Path, data: bytes | Callable[[Path], object]) -> None:
    """Replace ``path`` with ``data`` at once, or with what ``data(temporary_path)`` writes.

    The temporary file sits beside ``path`` (same file system, so the rename is atomic)
    and is removed when writing fails, which leaves the previous file untouched.
    """
    path = Path(path)
    # One temporary name per thread: two threads may replace different files of one folder.
    temporary = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    try:
        if isinstance(data, bytes):
            with open(temporary, "wb") as handle:
                handle.write(data)
        else:
            data(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json(path: str | Path, value) -> None:
    """``write_atomic`` of indented UTF-8 JSON with a final newline."""
    write_atomic(path, json.dumps(value, indent=2, ensure_ascii=False).encode() + b"\n")


def read_json(path: str | Path):
    """Parse a UTF-8 JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def replace_folder(target: str | Path, fill: Callable[[Path], object]) -> Path:
    """Write a set of files into ``target`` as one: ``fill(staging)`` writes them into a
    fresh sibling folder, which then takes the place of ``target``.

    Entries of the previous ``target`` that ``fill`` did not write are carried over (hard
    links where possible). A symbolic link named ``target`` keeps pointing where it
    pointed; the folder it points at is replaced. Returns the folder replaced. A failure
    at any step leaves the previous folder (or nothing) and no staging folder behind.
    """
    target = Path(target)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.exists() and not target.is_dir():
        raise SelectionError(f"{target} is a file; name a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the result folder is not
        fill(staging)
        if target.exists():
            staging.chmod(stat.S_IMODE(target.stat().st_mode))
            _carry_over(target, staging)
            old = _swap_in(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _carry_over(current: Path, staging: Path) -> None:
    """Link (or copy) every entry of ``current`` that ``staging`` lacks into ``staging``;
    ``current`` keeps its own until the swap."""
    for entry in current.iterdir():
        target = staging / entry.name
        if target.exists() or target.is_symlink():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
        elif entry.is_symlink():
            os.symlink(os.readlink(entry), target)
        else:
            _link_or_copy(entry, target)


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _swap_in(staging: Path, current: Path) -> Path:
    """Put ``staging`` at ``current``; returns where the previous folder now is, to remove.

    One atomic exchange where the system offers it (Linux ``renameat2(RENAME_EXCHANGE)``);
    otherwise two renames (``current`` aside, ``staging`` in), the first undone if the
    second fails, so ``current`` is missing only between the two calls and never mixed.
    """
    if _exchange(staging, current):
        return staging  # the previous folder, under the staging name
    aside = staging.with_name(staging.name.replace(".tmp-", ".old-", 1))
    os.rename(current, aside)
    try:
        os.rename(staging, current)
    except BaseException:
        os.rename(aside, current)
        raise
    return aside


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with ``renameat2(..., RENAME_EXCHANGE)``; False when the
    system or the file system does not offer it (nothing changed then)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(error, os.strerror(error), str(second))
