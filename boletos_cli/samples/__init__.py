"""Example input files shipped with the package (sample.csv: a small debtors' file with a few
deliberately bad rows, to show per-row errors; most payers have a CPF and an address, so the
bank can register their boletos, while a few have a CEP no post office uses, which the bank
rejects, or no valid CPF, which keeps them out of every remessa)."""
