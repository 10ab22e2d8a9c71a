"""Content hashes of a stage's input files, re-hashing only what changed since the last run.

Reading every file on every run would cost more than the no-change verdict is allowed to take,
so a small index in the state directory remembers ``path -> (size, mtime_ns, ctime_ns, inode,
sha)``. A file whose stat still matches its entry keeps its hash; any other file is read and
hashed again. The stat is only a shortcut to a content hash, never a substitute for one: the
cache key is always built from content hashes.

Like git's "racily clean" rule, a file modified within the last few seconds is not trusted by
its stat: a second write in the same timestamp tick could keep size and mtime unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gatekeeper.userstate import seal, unseal

INDEX_NAME = "hash-index.json"
INDEX_VERSION = 1
#: Entries kept in the index; past this the ones not seen in this process are dropped first.
MAX_ENTRIES = 50_000
#: Files modified this recently are hashed again next time, whatever their stat says.
RACY_NS = 3_000_000_000
_CHUNK = 1 << 20

Stat = tuple[int, int, int, int]


def _stat_key(st: os.stat_result) -> Stat:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def file_sha(path: Path) -> str:
    """The SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileHasher:
    """Content hashes by path, with the stat-keyed index at ``state/hash-index.json``.

    Thread-safe: stages hash their inputs from the executor's worker threads.
    """

    def __init__(self, state: Path | None) -> None:
        self.path = state / INDEX_NAME if state else None
        # Snapshot worktrees of the push gate live in the state dir and are thrown away:
        # remembering their files would only grow the index.
        self._transient = f"{state}{os.sep}" if state else None
        self._entries: dict[str, list[Any]] = self._load()
        self._seen: set[str] = set()
        self._dirty = False
        self._lock = threading.Lock()
        self.hashed = 0  # files read this process (for tests and the benchmark)

    def _load(self) -> dict[str, list[Any]]:
        if self.path is None:
            return {}
        try:
            # Signed: a forged entry (a stat matched to another content's hash) would make
            # the cache replay a result for content that was never checked.
            data = unseal(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # missing or corrupt: start over, it is only a shortcut
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            return {}
        entries = data.get("entries")
        if not isinstance(entries, dict):
            return {}
        return {k: v for k, v in entries.items() if isinstance(v, list) and len(v) == 5}

    def sha(self, path: Path) -> str | None:
        """The content hash of ``path``; None when it is not a readable regular file."""
        key = str(path)
        try:
            st = path.stat()
        except OSError:
            return None
        stat = _stat_key(st)
        with self._lock:
            self._seen.add(key)
            entry = self._entries.get(key)
            if entry is not None and tuple(entry[:4]) == stat:
                return str(entry[4])
        try:
            sha = file_sha(path)
        except OSError:
            return None
        with self._lock:
            self.hashed += 1
            transient = self._transient is not None and key.startswith(self._transient)
            if not transient and time.time_ns() - st.st_mtime_ns > RACY_NS:
                self._entries[key] = [*stat, sha]
            else:
                self._entries.pop(key, None)
            self._dirty = True
        return sha

    def digest(self, root: Path, files: Iterable[str]) -> str:
        """One hash over the repo-relative ``files`` (names and contents, order-independent)."""
        outer = hashlib.sha256()
        for rel in sorted(set(files)):
            sha = self.sha(root / rel)
            outer.update(f"{rel}\0{sha or '-'}\n".encode())
        return outer.hexdigest()

    def save(self) -> None:
        """Write the index back if it changed (temp file + ``os.replace``: never half-written)."""
        if self.path is None or not self._dirty:
            return
        with self._lock:
            entries = self._entries
            if len(entries) > MAX_ENTRIES:
                keep = sorted(entries, key=lambda k: k not in self._seen)[:MAX_ENTRIES]
                entries = {k: entries[k] for k in keep}
            text = seal({"version": INDEX_VERSION, "entries": entries})
            self._dirty = False
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            # A read-only or full state dir only costs speed next time, never correctness.
            with contextlib.suppress(OSError):
                tmp.unlink()


_SITE_GLOBS = (
    "lib/python3*/site-packages",
    "lib/python3*/dist-packages",
    "lib/python3/dist-packages",
    "local/lib/python3*/dist-packages",
    "Lib/site-packages",
)


def interpreter_stamp(python: Path) -> str:
    """What identifies an interpreter and the packages installed for it, without running it.

    The resolved binary with its size and mtime, and the mtime of each of its site-packages
    directories: installing, upgrading or removing a distribution adds or removes a
    ``*.dist-info`` entry there, which changes the directory's mtime. The ``.pth`` files and
    ``*customize.py`` modules there count on their own (size and mtime): they run at start-up.
    """
    parts = [str(python)]
    try:
        real = python.resolve()
        st = real.stat()
        parts.append(f"{real}:{st.st_size}:{st.st_mtime_ns}")
    except OSError:
        parts.append("missing")
    prefix = python.parent.parent
    for pattern in _SITE_GLOBS:
        for site in sorted(prefix.glob(pattern)):
            with contextlib.suppress(OSError):
                parts.append(f"{site}:{site.stat().st_mtime_ns}")
            # Start-up code edited in place leaves the directory's mtime alone.
            for startup in sorted([*site.glob("*.pth"), *site.glob("*customize.py")]):
                with contextlib.suppress(OSError):
                    st = startup.stat()
                    parts.append(f"{startup.name}:{st.st_size}:{st.st_mtime_ns}")
    cfg = prefix / "pyvenv.cfg"
    with contextlib.suppress(OSError):
        parts.append(f"cfg:{cfg.stat().st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


#: Variables that name files the tools write (their value is still part of a key).
ENV_OUTPUTS = frozenset({"COVERAGE_FILE", "PYTEST_DEBUG_TEMPROOT"})


def env_file_digests(root: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The content hash of each file a tool variable names (``RADONCFG``, ``COVERAGE_RCFILE``):
    the tool reads it, so its content is an input as much as the variable is."""
    digests = {}
    for name, value in env.items():
        if name in ENV_OUTPUTS:
            continue  # a file the tools write, not read: hashing it would defeat the cache
        path = Path(value) if Path(value).is_absolute() else root / value
        with contextlib.suppress(OSError, ValueError):
            if value and path.is_file():
                digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests
