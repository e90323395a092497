"""Lets ``python -m boletos.cli`` work where the console script is not installed."""

from boletos.cli.main import main

raise SystemExit(main())
