"""The fail-fix-repeat loop: gate -> autofix tier -> prompt -> fixer -> gate, until clean or stuck.

``driver`` runs the rounds; ``autofix`` is the tier that needs no agent; ``prompt`` builds what
the fixer reads (report plus memory); ``fixer`` runs one agent per the contract, with
``adapters`` for known agents; ``stall`` tells progress from spinning; ``handoff`` writes the
summary for a person when the loop gives up.
"""
