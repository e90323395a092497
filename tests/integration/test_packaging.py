"""A built wheel carries the generated gRPC stubs and a working `boletos` command, when built
from the sources alone (the stubs are never committed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support.processes import python_env

ROOT = Path(__file__).resolve().parents[2]


def _sources(into: Path) -> Path:
    """The files git tracks or would track (ignored ones left out): what a clone holds, so
    never a generated stub."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            target = into / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    assert not list((into / "boletos" / "v1").glob("*_pb2*.py"))
    return into


def test_the_wheel_imports_its_stubs_in_a_fresh_venv(tmp_path: Path) -> None:
    sources = _sources(tmp_path / "src")
    wheels = tmp_path / "wheels"
    # The build tools (setuptools, grpcio-tools) come from this venv, as `make setup` has
    # them; a plain `pip install .` fetches the same into an isolated build environment.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(wheels), str(sources)],
        check=True, timeout=300, env=python_env(PYTHONWARNINGS="ignore"),
    )  # fmt: skip
    (wheel,) = wheels.glob("boletos-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for proto in ("ingest", "boleto", "mailer", "events"):
        assert f"boletos/v1/{proto}_pb2.py" in names
        assert f"boletos/v1/{proto}_pb2_grpc.py" in names
    assert "boletos_cli/samples/sample.csv" in names
    # The debtor's page renders from these; without them the gateway would answer 500.
    assert "gateway_service/api/page_templates/payment.html" in names
    assert "gateway_service/api/page_assets/page.js" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The wheel goes into the new venv; its dependencies are borrowed from this one rather
    # than downloaded again (a .pth only adds the path, so this checkout stays out of reach).
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    site = next((venv / "lib").glob("python3.*/site-packages"))
    borrowed = next(Path(sys.prefix, "lib").glob("python3.*/site-packages"))
    (site / "borrowed-dependencies.pth").write_text(f"{borrowed}\n")

    check = (
        "import boletos.v1.ingest_pb2 as m, boletos_cli.main, ingest_service.app, "
        "gateway_service.app; print(m.__file__)"
    )
    done = subprocess.run(
        [str(python), "-I", "-c", check], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert done.stdout.strip().startswith(str(site)), done.stdout
    version = subprocess.run(
        [str(venv / "bin" / "boletos"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("boletos 0.")
