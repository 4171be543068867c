"""CLI subcommands, one module each (see neurosim.cli.COMMANDS)."""
