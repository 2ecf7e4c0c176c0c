"""The `civicline` subcommands, one module per area; gateway/cli.py assembles them."""
