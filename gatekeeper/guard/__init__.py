"""The tamper guard's core: invariants a change must keep, whatever it spells.

See :mod:`gatekeeper.guard.invariants` for what is checked and
:mod:`gatekeeper.guard.hybrid` for the tree the checks run on.
"""
