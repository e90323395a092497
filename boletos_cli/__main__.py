"""Lets ``python -m boletos_cli`` work where the console script is not installed."""

from boletos_cli.main import main

raise SystemExit(main())
