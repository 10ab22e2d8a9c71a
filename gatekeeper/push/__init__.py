"""The push gate: validate exactly the commits being pushed.

``refs`` reads git's pre-push lines and decides what each ref needs; ``snapshot`` checks a
commit that differs from the working tree in a temporary worktree; ``check`` runs the gate per
commit and reports; ``hookscript`` is the fail-closed hook ``gatekeeper install`` writes.
"""
