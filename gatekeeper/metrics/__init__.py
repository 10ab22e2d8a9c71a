"""The factory floor: yield, attempts and cost of the agents, read from the ledger.

``sources`` finds and reads the ledgers (one per repository, several clones aggregated),
``records`` turns their lines into typed records (defensively: records of older and newer
gatekeepers mix in one ledger), ``figures`` computes what ``gatekeeper report`` shows,
``summary`` prints it for a terminal and ``page`` builds the self-contained HTML page.
"""
