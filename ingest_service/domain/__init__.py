"""Pure rules of ingestion: the CSV header, line assembly, row validation. No I/O here."""
