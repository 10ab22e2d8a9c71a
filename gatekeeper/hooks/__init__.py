"""Integrations called by other programs: git's pre-push, pre-commit, agent Stop hooks.

Each module here speaks one protocol (see DESIGN.md, "Protocols to honour") and has
``add_arguments(parser)`` and ``main(args) -> int``, like a command.
"""
