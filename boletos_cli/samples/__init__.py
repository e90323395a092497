"""Example input files shipped with the package (sample.csv: a small debtors' file with a few
deliberately bad rows, to show per-row errors)."""
