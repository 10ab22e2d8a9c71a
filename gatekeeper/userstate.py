"""The gate's own state outside every repository: its signing key, snapshots, agent sessions.

What the change under check can write — the working tree, ``.gatekeeper/`` in it, the ledger
— cannot vouch for a verdict. State the gate must be able to trust lives in the user's state
directory (``$XDG_STATE_HOME/gatekeeper``, by default ``~/.local/state/gatekeeper``, mode
0700) instead, outside the workspace that a sandboxed agent (Codex's ``workspace-write``,
Claude Code's ``acceptEdits``) may edit. Results the gate keeps inside the repository, such as
the result cache and the hash index, are signed with an HMAC-SHA256 key kept there (mode 0600):
an entry an agent or a fixer wrote has no valid signature and is ignored.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import os
import secrets
import shutil
import stat
from pathlib import Path
from typing import Any

from gatekeeper.errors import GatekeeperError

KEY_NAME = "key"
KEY_BYTES = 32


def user_state_dir() -> Path:
    """``$XDG_STATE_HOME/gatekeeper`` (default ``~/.local/state/gatekeeper``), created 0700."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    path = Path(base) / "gatekeeper"
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise GatekeeperError(
            f"cannot create the gate's state directory {path}: {exc.strerror}",
            "set XDG_STATE_HOME (or HOME) to a writable directory",
        ) from None
    return path


def pycache_dir() -> Path:
    """Where the tools' bytecode is kept (``PYTHONPYCACHEPREFIX``), never in a checked tree."""
    return user_state_dir() / "pycache"


def forget_bytecode(tree: Path) -> None:
    """Remove the bytecode kept for the files under ``tree`` (a snapshot that is gone)."""
    shutil.rmtree(pycache_dir() / tree.resolve().relative_to(tree.anchor), ignore_errors=True)


@functools.lru_cache(maxsize=8)
def _key(where: Path) -> bytes:
    path = where / KEY_NAME
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_BYTES))
        finally:
            os.close(fd)
    info = path.stat()
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid():
        raise GatekeeperError(
            f"the gate's signing key {path} can be read or written by others",
            f"`chmod 600 {path}` (or delete it: a new one is made, and cached results are "
            "computed again)",
        )
    data = path.read_bytes()
    if len(data) < KEY_BYTES:
        raise GatekeeperError(
            f"the gate's signing key {path} is damaged",
            f"delete {path}: a new one is made and cached results are computed again",
        )
    return data


def signing_key() -> bytes:
    """The HMAC key of this user (made on first use, 0600); :class:`GatekeeperError` when it
    is open to others or damaged."""
    return _key(user_state_dir())


def sign(data: bytes) -> str:
    """The hex HMAC-SHA256 of ``data`` under :func:`signing_key`."""
    return hmac.new(signing_key(), data, hashlib.sha256).hexdigest()


def verify(data: bytes, mac: object) -> bool:
    """True when ``mac`` is :func:`sign` of ``data`` (compared in constant time)."""
    return isinstance(mac, str) and hmac.compare_digest(sign(data), mac)


def seal(payload: Any) -> str:
    """``payload`` as JSON text carrying its signature (see :func:`unseal`)."""
    body = json.dumps(payload, sort_keys=True)
    return json.dumps({"sealed": body, "mac": sign(body.encode("utf-8"))})


def unseal(text: str) -> Any:
    """The payload :func:`seal` wrote, or None when the text is not that (a file written
    without the key: damaged, from an older version, or forged).

    :raises GatekeeperError: the key itself cannot be trusted (see :func:`signing_key`).
    """
    try:
        outer = json.loads(text)
        body = outer["sealed"]
        if not isinstance(body, str) or not verify(body.encode("utf-8"), outer.get("mac")):
            return None
        return json.loads(body)
    except (ValueError, KeyError, TypeError):
        return None
