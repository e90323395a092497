"""One module per ``boletos`` subcommand: its arguments and what it does."""
