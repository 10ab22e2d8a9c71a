"""Registers the built-in report formats, through the same hook a plugin would use."""

from __future__ import annotations

from collections.abc import Callable

from gatekeeper._marker import hookimpl
from gatekeeper.formats import ReportFormat
from gatekeeper.reports import agent, github, json_report, junit, sarif, text


@hookimpl
def gatekeeper_register_formats(register: Callable[[ReportFormat], None]) -> None:
    register(ReportFormat("text", text.render, "for a person at a terminal"))
    register(ReportFormat("agent", agent.render, "markdown for a coding agent, size-capped"))
    register(ReportFormat("json", json_report.render, "the version-1 JSON report"))
    register(ReportFormat("sarif", sarif.render, "SARIF 2.1.0 for code scanning"))
    register(ReportFormat("junit", junit.render, "JUnit XML, one testsuite per stage"))
    register(ReportFormat("github", github.render, "GitHub Actions annotations"))
