"""What a push asks the gate to check: git's pre-push ref lines turned into commits and bases.

git hands a pre-push hook one line per ref (``<local ref> <local sha> <remote ref> <remote
sha>``). Each line becomes a :class:`Check` (a commit and the base its change is measured
against) or a reason why nothing needs checking (a deletion, a commit already checked in this
push, a tag of something that is not a commit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gatekeeper import git
from gatekeeper.errors import GatekeeperError

ZERO = "0" * 40
# Refs whose commits hold no source tree (git notes, replace objects): never gated.
NOT_CODE = ("refs/notes/", "refs/replace/")


@dataclass(frozen=True)
class PushedRef:
    """One line of git's pre-push stdin."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def deleted(self) -> bool:
        return set(self.local_sha) == {"0"}

    @property
    def new(self) -> bool:
        return set(self.remote_sha) == {"0"}

    @property
    def tag(self) -> bool:
        return self.remote_ref.startswith("refs/tags/") or self.local_ref.startswith("refs/tags/")


@dataclass(frozen=True)
class Check:
    """One commit to validate: the refs that push it and the base of the change.

    ``base`` None means there is nothing to compare with (first push to an empty remote):
    the whole tree is checked.
    """

    commit: str
    base: str | None
    refs: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Skipped:
    """A pushed ref that needs no check, and why."""

    ref: str
    reason: str


def parse_lines(text: str) -> list[PushedRef]:
    """Parse git's pre-push stdin; a malformed line is an error (never silently passed)."""
    refs: list[PushedRef] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 4 or not all(_is_sha(p) for p in (parts[1], parts[3])):
            raise GatekeeperError(
                f"unexpected pre-push input line: {line[:200]!r}",
                "git passes '<local ref> <local sha> <remote ref> <remote sha>' per line; "
                "run this only as git's pre-push hook",
            )
        refs.append(PushedRef(*parts))
    return refs


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text.lower())


def commit_of(root: Path, sha: str) -> str | None:
    """The commit ``sha`` names (tags peeled), or None when it is not a commit or unknown."""
    out = git.git(root, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", check=False)
    return out.strip() or None


def default_branch(root: Path, remote: str) -> str | None:
    """The remote's default branch as a local remote-tracking ref, if one is known."""
    head = git.git(
        root, "symbolic-ref", "--quiet", f"refs/remotes/{remote}/HEAD", check=False
    ).strip()
    candidates = [head] if head else []
    candidates += [f"refs/remotes/{remote}/{name}" for name in ("main", "master", "trunk")]
    for ref in candidates:
        if commit_of(root, ref):
            return ref
    return None


def local_default_branch(root: Path) -> str | None:
    """The local default branch (``init.defaultBranch``, else main/master/trunk), if any."""
    configured = git.git(root, "config", "--get", "init.defaultBranch", check=False).strip()
    for name in (configured, "main", "master", "trunk"):
        if name and commit_of(root, f"refs/heads/{name}"):
            return f"refs/heads/{name}"
    return None


def merge_base(root: Path, a: str, b: str) -> str | None:
    """The best common ancestor of ``a`` and ``b``, or None for unrelated histories."""
    return git.git(root, "merge-base", a, b, check=False).strip() or None


def base_for(root: Path, remote: str, ref: PushedRef, commit: str) -> tuple[str | None, str]:
    """The base to measure ``ref``'s change against, and a phrase saying where it came from."""
    if not ref.new:
        old = commit_of(root, ref.remote_sha)
        if old is not None:
            # After a rebase the old tip is not an ancestor: measure from where they forked.
            fork = merge_base(root, old, commit)
            if fork is not None:
                return fork, f"since {fork[:10]} (what {remote} has)"
    for branch in (default_branch(root, remote), local_default_branch(root)):
        fork = merge_base(root, branch, commit) if branch else None
        # The tip itself is no base: a change compared with itself hides everything.
        if branch and fork is not None and fork != commit:
            short = branch.removeprefix("refs/remotes/").removeprefix("refs/heads/")
            where = short if branch.startswith("refs/remotes/") else f"local {short}"
            return fork, f"since {fork[:10]} (merge-base with {where})"
    return None, (
        f"everything; NOTHING COULD BE COMPARED ({remote} has no branch to compare with and "
        "no local default branch forks from this commit): the tamper guard checks nothing"
    )


def plan_checks(
    root: Path, remote: str, refs: Iterable[PushedRef]
) -> tuple[list[Check], list[Skipped]]:
    """Turn pushed refs into checks, one per distinct commit, and the refs that need none."""
    checks: dict[str, Check] = {}
    skipped: list[Skipped] = []
    for ref in refs:
        name = ref.remote_ref
        if ref.deleted:
            skipped.append(Skipped(name, "deleted: nothing to check"))
            continue
        if name.startswith(NOT_CODE):
            skipped.append(Skipped(name, "not a branch or tag of the code: nothing to check"))
            continue
        commit = commit_of(root, ref.local_sha)
        if commit is None:
            skipped.append(Skipped(name, f"{ref.local_sha[:10]} is not a commit: nothing to check"))
            continue
        if commit in checks:
            known = checks[commit]
            checks[commit] = Check(commit, known.base, (*known.refs, name), known.why)
            continue
        base, why = base_for(root, remote, ref, commit)
        checks[commit] = Check(commit, base, (name,), why)
    return list(checks.values()), skipped
