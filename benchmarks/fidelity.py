"""Fidelity: does the gate report what each project's own tools report, run the project's way?

    nice python benchmarks/fidelity.py [--project NAME ...] [--workdir DIR]

For each project (pinned source distributions from PyPI, chosen to vary the build backend —
setuptools, flit, hatchling, poetry-core —, src and flat layouts, a single module, one without
tests, ones configured for pyright or ty) it:

1. downloads the sdist (``pip download --no-binary NAME --no-deps``), unpacks it as a git
   repository, and builds a virtualenv with the project and its test dependencies;
2. runs each tool directly, the project's way: from the project's directory, its own
   configuration, no arguments beyond an output format (mypy gets the discovered packages only
   when its config names no ``files``/``packages``/``modules``; real pyright from npm where the
   project configures pyright; the type checkers the project does not configure are not run);
3. runs ``gatekeeper run --format json --no-cache`` with zero gate configuration;
4. prints a table, project × stage: findings by the tool alone, by the gate, and the set
   difference by (path, line, rule).

The type checkers, ruff and radon run from one shared tool environment (the gate's own, with
gatekeeper and its ``tools`` extra installed from this checkout's HEAD), pointed at the
project's interpreter; pytest and build run in the project's virtualenv, as in the gate. radon
has no verdict of its own (the limits are the gate's), so its row shows the gate's alone.
pytest rows compare failing test ids; build rows compare success.

Not part of the test suite: it needs PyPI and npm and takes many minutes. Run it with ``nice``
and an interpreter where this checkout is installed (``.venv/bin/python``, ``pip install -e .``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gatekeeper_plugins import _selection

from gatekeeper.layout import discover

HERE = Path(__file__).resolve().parent

Key = tuple[str, int, str]


@dataclass(frozen=True)
class Spec:
    """One pinned project: its test dependencies and the tests that need the network."""

    dist: str
    version: str
    test_deps: tuple[str, ...] = ("pytest",)
    deselect: tuple[str, ...] = ()
    note: str = ""


PROJECTS: dict[str, Spec] = {
    "six": Spec("six", "1.17.0", note="setuptools, single module"),
    "toolz": Spec("toolz", "1.2.0", note="setuptools, flat package"),
    "attrs": Spec(
        "attrs",
        "26.1.0",
        ("pytest", "hypothesis", "pympler", "cloudpickle"),
        note="hatchling, src layout, a % in another tool's table",
    ),
    "platformdirs": Spec(
        "platformdirs",
        "4.14.5",
        ("pytest", "pytest-mock", "appdirs"),
        note="hatchling, src layout, configured for ty",
    ),
    "tomlkit": Spec("tomlkit", "0.15.2", ("pytest", "pyyaml"), note="poetry-core, flat"),
    "click": Spec("click", "8.5.1", note="flit, src layout, mypy files incl. tests/typing"),
    "packaging": Spec(
        "packaging", "26.3", ("pytest", "pretend", "tomli-w"), note="flit, src layout"
    ),
    "docopt": Spec("docopt", "0.6.2", note="setuptools, single module, no tests in the sdist"),
    "typing_extensions": Spec("typing_extensions", "4.16.0", note="flit, single module under src/"),
    "more-itertools": Spec("more-itertools", "11.2.1", note="flit, flat package"),
}
STAGES = ("ruff", "ruff-format", "mypy", "pyright", "ty", "radon", "pytest", "build")
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def sh(
    argv: Sequence[str | Path],
    cwd: Path,
    env: dict[str, str] | None = None,
    ok: Sequence[int] = (0,),
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env={**clean_env(), **(env or {})},
        capture_output=True,
        text=True,
    )
    if done.returncode not in ok:
        raise RuntimeError(
            f"failed ({done.returncode}): {' '.join(map(str, argv))}\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return done


def clean_env() -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GATEKEEPER_", "VIRTUAL_ENV", "PYTHON"))
    }
    return {**keep, **GIT_ENV, "NO_COLOR": "1"}


@dataclass
class Tools:
    """The shared tool environment (gatekeeper from HEAD with its tools) and npm's pyright."""

    python: Path
    pyright: Path | None


def install_tools(workdir: Path, keep: bool = False) -> Tools:
    """gatekeeper[tools] from this checkout's HEAD in a venv; pyright from npm beside it
    (``keep``: use the gatekeeper already installed there, whatever its revision)."""
    checkout = HERE.parent
    rev = sh(["git", "rev-parse", "HEAD"], cwd=checkout).stdout.strip()
    venv, src = workdir / "tools-venv", workdir / "gatekeeper-src"
    python = venv / "bin" / "python"
    marker = venv / "installed-rev"
    if not (marker.is_file() and (keep or marker.read_text() == rev)):
        print(f"gatekeeper {rev[:10]} with its tools into {venv}", file=sys.stderr)
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD"],
            cwd=checkout,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        if not python.exists():
            sh([sys.executable, "-m", "venv", venv], cwd=workdir)
        sh([python, "-m", "pip", "install", "-q", f"{src}[tools]"], cwd=workdir)
        marker.write_text(rev)
    version = sh([python, "-m", "basedpyright", "--version"], cwd=workdir).stdout
    upstream = re.search(r"based on pyright (\d+\.\d+\.\d+)", version)
    pyright = None
    if upstream and shutil.which("npm"):
        prefix = workdir / f"pyright-{upstream[1]}"
        pyright = prefix / "node_modules" / ".bin" / "pyright"
        if not pyright.exists():
            print(f"pyright {upstream[1]} from npm", file=sys.stderr)
            sh(
                ["npm", "install", "--silent", "--prefix", prefix, f"pyright@{upstream[1]}"],
                cwd=workdir,
            )
    return Tools(python, pyright)


@dataclass
class Project:
    name: str
    spec: Spec
    root: Path
    python: Path
    checkers: dict[str, str] = field(default_factory=dict)


def setup(name: str, workdir: Path) -> Project:
    """Download the sdist, unpack it as a git repository, build its virtualenv (once)."""
    spec = PROJECTS[name]
    base = workdir / name
    root = base / "tree"
    python = root / ".venv" / "bin" / "python"
    if not (root / ".git").is_dir():
        shutil.rmtree(base, ignore_errors=True)
        download = base / "download"
        download.mkdir(parents=True)
        print(f"[{name}] {spec.dist}=={spec.version}", file=sys.stderr)
        sh(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                # the project's sdist; its build backend may come as a wheel
                "--no-binary",
                spec.dist,
                "--no-deps",
                f"{spec.dist}=={spec.version}",
                "-d",
                download,
            ],
            cwd=base,
        )
        (archive,) = download.glob("*.tar.gz")
        with tarfile.open(archive) as tar:
            tar.extractall(base / "unpacked", filter="data")
        (top,) = (base / "unpacked").iterdir()
        top.rename(root)
        with (root / ".gitignore").open("a") as fh:
            fh.write("\n.venv/\n.gatekeeper/\n*.egg-info/\n__pycache__/\n.mypy_cache/\n")
        sh([sys.executable, "-m", "venv", root / ".venv"], cwd=root)
        sh([python, "-m", "pip", "install", "-q", "-e", ".", "build", *spec.test_deps], cwd=root)
        sh(["git", "init", "-q", "-b", "main"], cwd=root)
        sh(["git", "add", "--all"], cwd=root)
        sh(["git", "commit", "-q", "-m", "sdist"], cwd=root)
    return Project(name, spec, root, python, _selection.checkers(root))


# -- each tool alone, the project's way -------------------------------------------------------


def venv_env(p: Project) -> dict[str, str]:
    """The project's virtualenv activated, as a developer of the project would have it."""
    bin_dir = str(p.python.parent)
    return {
        "VIRTUAL_ENV": str(p.python.parent.parent),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def rel(p: Project, path: str) -> str:
    pure = Path(path)
    if pure.is_absolute():
        try:
            return pure.resolve().relative_to(p.root.resolve()).as_posix()
        except ValueError:
            return pure.as_posix()
    return pure.as_posix().removeprefix("./")


def alone_ruff(p: Project, t: Tools) -> set[Key]:
    done = sh(
        [t.python, "-m", "ruff", "check", "--output-format", "json", "--no-fix"], p.root, ok=(0, 1)
    )
    return {
        (rel(p, d["filename"]), d["location"]["row"], d.get("code") or "invalid-syntax")
        for d in json.loads(done.stdout)
    }


def alone_ruff_format(p: Project, t: Tools) -> set[Key]:
    done = sh([t.python, "-m", "ruff", "format", "--check"], p.root, ok=(0, 1))
    # "Would reformat: PATH" (older ruff) or "unformatted: …" followed by "--> PATH:L:C"
    found = set(re.findall(r"^Would reformat: (.+)$", done.stdout, re.M))
    found |= set(re.findall(r"^unformatted:.*\n\s*--> (.+?):\d+:\d+", done.stdout, re.M))
    return {(rel(p, path.strip()), 0, "format") for path in found}


def alone_mypy(p: Project, t: Tools) -> set[Key] | None:
    if p.checkers and "mypy" not in p.checkers:
        return None
    targets = (
        []
        if _selection.mypy_targets(p.root) is not None
        else list(discover(p.root).sources) or ["."]
    )
    done = sh(
        [
            t.python,
            "-m",
            "mypy",
            "-O",
            "json",
            "--no-pretty",
            "--no-error-summary",
            "--python-executable",
            p.python,
            *targets,
        ],
        p.root,
        venv_env(p),
        ok=(0, 1, 2),
    )
    found = set()
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            if rec.get("severity") == "error":
                found.add((rel(p, rec["file"]), rec.get("line") or 0, rec.get("code") or "misc"))
    return found


def alone_pyright(p: Project, t: Tools) -> set[Key] | None:
    if "pyright" not in p.checkers:
        return None
    based = p.checkers["pyright"].endswith("[tool.basedpyright]")
    argv: list[str | Path] = (
        [t.python, "-m", "basedpyright"] if based or t.pyright is None else [t.pyright]
    )
    done = sh([*argv, "--outputjson", "--pythonpath", p.python], p.root, venv_env(p), ok=(0, 1))
    data = json.loads(done.stdout)
    blocking = ("error", "warning") if based else ("error",)
    return {
        (rel(p, d["file"]), d["range"]["start"]["line"] + 1, d.get("rule") or "error")
        for d in data["generalDiagnostics"]
        if d["severity"] in blocking
    }


def alone_ty(p: Project, t: Tools) -> set[Key] | None:
    if "ty" not in p.checkers:
        return None
    done = sh(
        [t.python, "-m", "ty", "check", "--output-format", "gitlab", "--python", p.python],
        p.root,
        venv_env(p),
        ok=(0, 1),
    )
    data = json.loads(done.stdout)
    severities = ("major", "critical", "blocker") + (("minor",) if done.returncode else ())
    if done.returncode and any(d["severity"] in ("major", "critical", "blocker") for d in data):
        severities = ("major", "critical", "blocker")
    return {
        (
            rel(p, d["location"]["path"]),
            d["location"]["positions"]["begin"]["line"],
            d["check_name"],
        )
        for d in data
        if d["severity"] in severities
    }


def alone_pytest(p: Project, t: Tools) -> set[Key] | None:
    listing = sh(["git", "ls-files"], p.root).stdout.split()
    names = [Path(f).name for f in listing]
    if not any(
        (n.startswith("test") and n.endswith(".py")) or n.endswith("_test.py") for n in names
    ):
        return None  # no tests: nothing to run the project's way
    deselect = [a for d in p.spec.deselect for a in ("--deselect", d)]
    done = sh(
        [p.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", *deselect],
        p.root,
        venv_env(p),
        ok=(0, 1, 2, 5),
    )
    found = set()
    for line in done.stdout.splitlines():
        m = re.match(r"^(FAILED|ERROR) (\S+)", line)
        if m:
            found.add((m[2].split("::")[0], 0, m[2]))
    return found


def alone_build(p: Project, t: Tools) -> set[Key] | None:
    from gatekeeper_plugins.build import declares_build

    if not declares_build(p.root):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        files = sh(["git", "ls-files", "-z"], p.root).stdout.split("\0")
        for f in filter(None, files):
            target = Path(tmp) / "src" / f
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p.root / f, target)
        done = sh(
            [p.python, "-m", "build", "--outdir", Path(tmp) / "dist", Path(tmp) / "src"],
            p.root,
            ok=range(256),
        )
    return set() if done.returncode == 0 else {("", 0, "build-failed")}


ALONE = {
    "ruff": alone_ruff,
    "ruff-format": alone_ruff_format,
    "mypy": alone_mypy,
    "pyright": alone_pyright,
    "ty": alone_ty,
    "pytest": alone_pytest,
    "build": alone_build,
}


# -- the gate ---------------------------------------------------------------------------------


def gate(p: Project, t: Tools) -> dict[str, dict[str, Any]]:
    shutil.rmtree(p.root / ".gatekeeper", ignore_errors=True)
    done = sh(
        [t.python, "-m", "gatekeeper", "run", "--format", "json", "--no-cache"],
        p.root,
        ok=(0, 1, 2),
    )
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise RuntimeError(f"gate gave no report: {done.stderr[-1500:]}") from None
    return {s["name"]: s for s in data["stages"]}


def gate_keys(stage: dict[str, Any]) -> set[Key]:
    name = stage["name"]
    keys = set()
    for f in stage["findings"]:
        if f["severity"] != "error":
            continue
        if name == "ruff-format":
            keys.add((f["path"], 0, "format"))
        elif name == "pytest":
            nodeid = f["message"].split(": ")[0]
            keys.add((nodeid.split("::")[0], 0, nodeid))
        elif name == "build":
            keys.add(("", 0, "build-failed"))
        else:
            keys.add((f["path"], f["line"], f["rule"]))
    return keys


@dataclass
class Row:
    project: str
    stage: str
    tool: str
    gate: str
    only_tool: list[Key]
    only_gate: list[Key]
    note: str = ""


def compare(p: Project, t: Tools) -> list[Row]:
    stages = gate(p, t)
    rows = []
    for name in STAGES:
        g = stages.get(name)
        gate_text = "off" if g is None else g["status"]
        if g is not None and g["status"] in ("passed", "failed"):
            gate_text = f"{len(gate_keys(g))}"
        if name == "radon":
            note = "" if g is None else (g.get("reason") or "").splitlines()[0:1]
            rows.append(Row(p.name, name, "-", gate_text, [], [], " ".join(note)))
            continue
        try:
            alone = ALONE[name](p, t)
        except (RuntimeError, ValueError, KeyError) as exc:
            rows.append(Row(p.name, name, "crash", gate_text, [], [], str(exc).splitlines()[0]))
            continue
        tool_text = "not the project's" if alone is None else str(len(alone))
        if alone is None or g is None or g["status"] not in ("passed", "failed"):
            reason = "" if g is None else (g.get("reason") or "").splitlines()[0:1]
            rows.append(Row(p.name, name, tool_text, gate_text, [], [], " ".join(reason)))
            continue
        mine = gate_keys(g)
        rows.append(
            Row(p.name, name, tool_text, gate_text, sorted(alone - mine), sorted(mine - alone))
        )
    return rows


def _key(k: Key) -> str:
    """``path:line rule``; a test id alone; a whole file as its path."""
    if k[1]:
        return f"{k[0]}:{k[1]} {k[2]}"
    return k[2] if not k[0] or k[2].startswith(k[0]) else f"{k[0]} ({k[2]})"


def show(keys: list[Key]) -> str:
    if not keys:
        return "—"
    shown = ", ".join(_key(k) for k in keys[:3])
    return shown + (f" (+{len(keys) - 3})" if len(keys) > 3 else "")


def table(rows: list[Row]) -> str:
    out = [
        "| project | stage | tool alone | gate | only the tool | only the gate | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.project} | {r.stage} | {r.tool} | {r.gate} | {show(r.only_tool)} | "
            f"{show(r.only_gate)} | {r.note[:120]} |"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", action="append", choices=sorted(PROJECTS))
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "gatekeeper-fidelity"
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument(
        "--keep-tools", action="store_true", help="do not reinstall gatekeeper for a new HEAD"
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    tools = install_tools(args.workdir, args.keep_tools)
    rows: list[Row] = []
    for name in args.project or list(PROJECTS):
        try:
            project = setup(name, args.workdir)
            found = compare(project, tools)
            rows += found
            print(table(found), file=sys.stderr)
        except (RuntimeError, ValueError, KeyError) as exc:
            rows.append(Row(name, "setup", "crash", "-", [], [], str(exc).splitlines()[0]))
        print(f"[{name}] done", file=sys.stderr)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1, default=list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
