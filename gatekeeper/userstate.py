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
import os
import secrets
import stat
from pathlib import Path

from gatekeeper.errors import GatekeeperError

KEY_NAME = "key"
KEY_BYTES = 32


def user_state_dir() -> Path:
    """``$XDG_STATE_HOME/gatekeeper`` (default ``~/.local/state/gatekeeper``), created 0700."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    path = Path(base) / "gatekeeper"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


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
