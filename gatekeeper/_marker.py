"""The hook implementation marker, kept apart so importing it costs only pluggy."""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("gatekeeper")
