"""The push gate: validate exactly the commits being pushed.

``refs`` reads git's pre-push lines and decides what each ref needs; ``snapshot`` makes the
temporary worktree (with submodules) each commit is checked in; ``check`` runs the gate per
commit and reports; ``hookscript`` is the fail-closed hook ``gatekeeper install`` writes.
"""
