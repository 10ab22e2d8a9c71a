"""``--format json``: the run as DESIGN.md's version-1 report (schema: schemas/report-v1.json)."""

from __future__ import annotations

import json
from typing import Any

from gatekeeper.formats import ReportOptions
from gatekeeper.models import RunResult


def render(run: RunResult, options: ReportOptions) -> str:
    """The run as the version-1 JSON report."""
    return dumps(run.to_json())


def dumps(data: dict[str, Any]) -> str:
    """Deterministic JSON: same run, same bytes."""
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
