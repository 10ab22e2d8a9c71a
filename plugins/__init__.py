"""Gatekeeper's built-in stages, each an ordinary plugin using only the public API.

Installed as ``gatekeeper_plugins`` (not ``plugins``) so a user's own package can't shadow it.
"""
