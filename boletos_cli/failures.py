"""The one way a command reports that it could not do its job."""

from __future__ import annotations

# Exit codes: 0 done (even if some rows were rejected), 1 the server refused the file as
# a whole, 2 the command could not run (bad input, unreachable or failing service, a
# download that does not match its checksum), 3 done, but the service reported lines it
# could not use (a retorno's unmatched lines: someone must look at them), 130 interrupted
# by the user, 141 the reader of its output went away (as for any program killed by
# SIGPIPE).
EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_FAILED = 2
EXIT_PROBLEMS = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class CliError(Exception):
    """A failure worth one clear line on stderr and exit code 2."""
