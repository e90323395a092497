"""`boletos completion bash`, sourced into a real bash, completes commands and their flags."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boletos_cli.main import main


def _complete(script: str, words: list[str]) -> list[str]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash not found")
    line = " ".join(words)
    program = (
        f'source "$1"; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; '
        f'COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}; '
        f'_shtab_boletos boletos "{words[-1]}" "{words[-2]}"; printf "%s\\n" "${{COMPREPLY[@]}}"'
    )
    done = subprocess.run(
        [bash, "-c", program, "bash", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_commands_and_flags(tmp_path: Path, capsys) -> None:
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "boletos.bash"
    script.write_text(capsys.readouterr().out)
    assert _complete(str(script), ["boletos", "rem"]) == ["remessa"]
    assert _complete(str(script), ["boletos", "ret"]) == ["retry", "retorno"]
    flags = _complete(str(script), ["boletos", "upload", "--"])
    assert {"--json", "--wait", "--beneficiary"} <= set(flags)


@pytest.mark.parametrize("shell", ["zsh", "tcsh"])
def test_other_shells_get_a_script_naming_every_command(shell: str, capsys) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for command in ("upload", "watch", "remessa", "retorno", "completion"):
        assert command in script
    assert sys.executable not in script
