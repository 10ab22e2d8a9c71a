"""Record the changed lines a Python process of the tests runs (a CLI called with subprocess).

The ``pytest`` stage puts this directory on ``PYTHONPATH`` (with the plugins' directory right
after it) while it measures a change, so every Python process of the test run imports it at
start-up. It costs a few milliseconds and one import hook, consulted by name: only the changed
files are compiled with probes (see ``gatekeeper_probe``). The project's own
``sitecustomize`` (the next one on ``sys.path``) still runs. Imports only the standard
library, and only what start-up has loaded already where it can.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys


def _chain() -> None:
    """Run the next ``sitecustomize`` on the path: the project's own, if it has one."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.import_module("importlib.util").module_from_spec(spec)  # ~5 ms
        spec.loader.exec_module(module)


# Without the plugins' directory on the path (a process that set its own PYTHONPATH) nothing
# is recorded there.
def _install() -> None:
    try:  # not contextlib.suppress: one import less in every process
        probe = importlib.import_module("gatekeeper_probe")
    except ImportError:
        return
    probe.install()


_install()
_chain()
