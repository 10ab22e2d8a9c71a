"""Report formats: one module per format, registered by :mod:`gatekeeper.reports.builtin`."""
