"""`gatekeeper install` / `uninstall`: where the hook goes, foreign hooks, failing closed."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from push_support import TYPE_ERROR, PushRepo, make_push_repo

from gatekeeper.push import hookscript

FOREIGN = """\
#!/bin/sh
# the team's own pre-push hook: records what it was given
cat > "{log}"
echo "args: $*" >> "{log}"
exit {code}
"""


def _hook(pr: PushRepo) -> Path:
    return pr.path / ".git" / "hooks" / "pre-push"


def _gate(pr: PushRepo, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=cwd or pr.path,
        env=pr.repo.env,
        capture_output=True,
        text=True,
    )


def _foreign(pr: PushRepo, log: Path, code: int = 0) -> Path:
    hook = _hook(pr)
    hook.write_text(FOREIGN.format(log=log, code=code))
    hook.chmod(0o755)
    return hook


def test_install_writes_an_executable_hook_and_is_idempotent(tmp_path: Path) -> None:
    pr = make_push_repo(tmp_path)
    hook = _hook(pr)
    assert hookscript.is_ours(hook)
    assert hook.stat().st_mode & stat.S_IXUSR
    assert sys.executable in hook.read_text()
    again = pr.install()
    assert again.returncode == 0, again.stderr
    mine = [p.name for p in hook.parent.iterdir() if p.name.startswith("pre-push")]
    assert sorted(mine) == ["pre-push", "pre-push.sample"]  # no backup, no chain, no temp


def test_core_hooks_path_and_worktrees_are_honoured(tmp_path: Path) -> None:
    pr = make_push_repo(tmp_path)
    pr.git("config", "core.hooksPath", "team-hooks")
    linked = tmp_path / "linked"
    pr.git("worktree", "add", "-q", "-b", "side", str(linked))
    done = pr.install(cwd=linked)
    assert done.returncode == 0, done.stderr
    # A relative core.hooksPath is resolved by git in the worktree the hook runs from.
    assert hookscript.is_ours(linked / "team-hooks" / "pre-push")
    pr.git("config", "--unset", "core.hooksPath")
    _hook(pr).unlink()
    done = pr.install(cwd=linked)
    assert done.returncode == 0, done.stderr
    assert hookscript.is_ours(_hook(pr))  # the common .git/hooks, not the worktree's gitdir


def test_a_foreign_hook_is_refused_chained_or_replaced(tmp_path: Path) -> None:
    pr = make_push_repo(tmp_path)
    log = tmp_path / "foreign.log"
    hook = _foreign(pr, log)
    original = hook.read_text()

    refused = pr.install()
    assert refused.returncode == 2
    assert "not written by gatekeeper" in refused.stderr and "--chain" in refused.stderr
    assert hook.read_text() == original

    chained = pr.install("--chain")
    assert chained.returncode == 0, chained.stderr
    assert hookscript.is_ours(hook)
    pushed = pr.push("origin", "main")
    assert pushed.returncode == 0, pushed.output
    head = pr.git("rev-parse", "HEAD").strip()
    # The old hook ran first, with git's arguments and the same ref lines on stdin.
    assert f"refs/heads/main {head} refs/heads/main {'0' * 40}" in log.read_text()
    assert f"args: origin {pr.remote}" in log.read_text()
    assert "PASSED: commit" in pushed.output

    # uninstall puts the team's hook back, byte for byte.
    removed = _gate(pr, "uninstall")
    assert removed.returncode == 0, removed.stderr
    assert hook.read_text() == original

    replaced = pr.install("--force")
    assert replaced.returncode == 0, replaced.stderr
    assert hookscript.is_ours(hook)
    assert (hook.parent / "pre-push.gatekeeper-replaced").read_text() == original


def test_a_failing_chained_hook_blocks_the_push(tmp_path: Path) -> None:
    pr = make_push_repo(tmp_path)
    _foreign(pr, tmp_path / "foreign.log", code=3)
    assert pr.install("--chain").returncode == 0
    pushed = pr.push("origin", "main")
    assert pushed.returncode != 0
    assert "checking commit" not in pushed.output
    assert pr.remote_sha("main") is None


def test_uninstall_removes_only_its_own_hook(tmp_path: Path) -> None:
    pr = make_push_repo(tmp_path)
    assert _gate(pr, "uninstall").returncode == 0
    assert not _hook(pr).exists()
    nothing = _gate(pr, "uninstall")
    assert nothing.returncode == 0 and "nothing to uninstall" in nothing.stdout
    hook = _foreign(pr, tmp_path / "foreign.log")
    refused = _gate(pr, "uninstall")
    assert refused.returncode == 2 and "left alone" in refused.stderr
    assert hook.exists()


def _borrowed_venv(where: Path, with_gatekeeper: bool) -> Path:
    """A virtualenv that borrows this one's interpreter (and, if asked, its packages)."""
    own = Path(sys.prefix)
    (where / "bin").mkdir(parents=True)
    shutil.copy(own / "pyvenv.cfg", where / "pyvenv.cfg")
    os.symlink(Path(sys.executable).resolve(), where / "bin" / "python")
    if with_gatekeeper:
        os.symlink(own / "lib", where / "lib")
    return where / "bin" / "python"


def test_the_hook_fails_closed_when_gatekeeper_is_gone(tmp_path: Path) -> None:
    pr = make_push_repo(tmp_path)
    env = tmp_path / "env"
    python = _borrowed_venv(env, with_gatekeeper=True)
    done = subprocess.run(
        [str(python), "-m", "gatekeeper", "install", "--force"],
        cwd=pr.path,
        env=pr.repo.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert str(python) in _hook(pr).read_text()
    pr.write("sample/bad.py", TYPE_ERROR)
    pr.commit("broken")

    shutil.rmtree(env)  # the interpreter is gone
    pushed = pr.push("origin", "main")
    assert pushed.returncode != 0
    assert "interpreter" in pushed.output and "git push --no-verify" in pushed.output
    assert pr.remote_sha("main") is None

    _borrowed_venv(env, with_gatekeeper=False)  # the interpreter is back, gatekeeper is not
    # ... not on a PYTHONPATH either (a gate running this suite puts its tree there)
    pr.repo.env.pop("PYTHONPATH", None)
    pushed = pr.push("origin", "main")
    assert pushed.returncode != 0
    assert "cannot be imported" in pushed.output and "git push --no-verify" in pushed.output
    assert pr.remote_sha("main") is None


def test_chaining_never_overwrites_an_earlier_chained_hook(tmp_path: Path) -> None:
    pr = make_push_repo(tmp_path)
    _hook(pr).unlink()
    _foreign(pr, tmp_path / "first.log")
    assert pr.install("--chain").returncode == 0
    second = _foreign(pr, tmp_path / "second.log")  # someone replaced our hook since
    refused = pr.install("--chain")
    assert refused.returncode == 2 and "cannot chain" in refused.stderr
    assert "first.log" in (second.parent / "pre-push.gatekeeper-chained").read_text()
    assert "second.log" in second.read_text()
