"""The ``boletos`` command line: upload files, inspect uploads and run a local stack."""
