"""One module per command-line verb (see :data:`gatekeeper.cli.COMMANDS`)."""
