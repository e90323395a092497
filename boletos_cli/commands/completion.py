"""``boletos completion SHELL``: the shell's completion script for every command and flag,
written from the command's own parser by shtab, so it never falls behind a new flag.

    eval "$(boletos completion bash)"          # this shell
    boletos completion bash > ~/.local/share/bash-completion/completions/boletos
"""

from __future__ import annotations

import argparse
import sys

import shtab
from rich.console import Console

from boletos_cli.channels import Endpoints
from boletos_cli.failures import EXIT_OK

SHELLS = ("bash", "zsh", "tcsh")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "completion",
        help="print the shell completion script (bash, zsh or tcsh)",
        description='Print the completion script for SHELL: eval "$(boletos completion bash)" '
        "in ~/.bashrc, or save it where the shell looks for completions "
        "(~/.local/share/bash-completion/completions/boletos, a directory on zsh's fpath as "
        "_boletos).",
    )
    parser.add_argument("shell", choices=SHELLS)
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace, endpoints: Endpoints, out: Console, err: Console) -> int:
    from boletos_cli.main import build_parser  # the whole command, this one included

    # Written as it is: a console would wrap and style a script.
    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell))
    return EXIT_OK
