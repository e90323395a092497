"""The contracts hold to buf's style and keep every released version's clients working.

`buf lint` checks the protos against protos/buf.yaml; `buf breaking` compares them with the
image of each released version in protos/releases/ (binary and JSON encodings, RPCs,
services and messages). buf comes with the dev dependencies (buf-bin); outside CI a machine
without it skips these tests, in CI (CI=true) they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
RELEASES = sorted((PROTOS / "releases").glob("*.binpb"))
FIRST_RELEASE = PROTOS / "releases" / "v0.1.0.binpb"


def _buf() -> str:
    # The virtualenv's bin, where buf-bin puts it, even when that bin is not on PATH.
    beside = Path(sys.executable).parent / "buf"
    found = str(beside) if beside.exists() else shutil.which("buf")
    if found is None:
        message = "buf not found (it comes with the dev dependencies, buf-bin: make setup)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _buf_run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_buf(), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_protos_pass_buf_lint() -> None:
    result = _buf_run("lint", PROTOS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_first_release_has_its_image() -> None:
    assert FIRST_RELEASE in RELEASES


@pytest.mark.parametrize("image", RELEASES, ids=[image.stem for image in RELEASES])
def test_the_protos_keep_a_released_versions_clients_working(image: Path) -> None:
    result = _buf_run("breaking", PROTOS, "--against", image)
    assert result.returncode == 0, (
        f"a change to the protos breaks clients of {image.stem}:\n{result.stdout}{result.stderr}"
    )


# Each edit to boleto.proto breaks 0.1.0's clients: what it changes, what it names, and the
# rules buf must report.
BREAKING_CHANGES = {
    "a removed field": (
        "  string barcode = 5;\n",
        "",
        "barcode",
        {"FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", "FIELD_NO_DELETE_UNLESS_NAME_RESERVED"},
    ),
    "a field of another type": (
        "  string due_date = 11;\n",
        "  int64 due_date = 11;\n",
        "due_date",
        {"FIELD_WIRE_JSON_COMPATIBLE_TYPE"},
    ),
    # Nothing changes on the wire; JSON clients lose the field.
    "a renamed field": (
        "  string barcode = 5;\n",
        "  string bar_code = 5;\n",
        "barcode",
        {"FIELD_SAME_NAME", "FIELD_SAME_JSON_NAME"},
    ),
    "a removed RPC": (
        "  rpc GetBoleto(GetBoletoRequest) returns (GetBoletoResponse);\n",
        "",
        "GetBoleto",
        {"RPC_NO_DELETE"},
    ),
}


@pytest.mark.parametrize("change", BREAKING_CHANGES)
def test_buf_breaking_fails_on_a_breaking_change(change: str, tmp_path: Path) -> None:
    # A guard that could never fail would prove nothing.
    before, after, name, rules = BREAKING_CHANGES[change]
    protos = tmp_path / "protos"
    shutil.copytree(PROTOS, protos)
    proto = protos / "boletos" / "v1" / "boleto.proto"
    text = proto.read_text()
    assert text.count(before) == 1, f"boleto.proto no longer has {before.strip()!r}"
    proto.write_text(text.replace(before, after))

    result = _buf_run("breaking", protos, "--against", FIRST_RELEASE, "--error-format", "json")

    assert result.returncode != 0, f"{change} went unnoticed"
    found = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert {finding["type"] for finding in found} == rules, result.stdout + result.stderr
    assert all(f'"{name}"' in finding["message"] for finding in found), result.stdout


def test_a_missing_buf_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="buf not found"):
        _buf()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="buf not found"):
        _buf()
