"""Generates the gRPC stubs whenever the package is built, so a wheel or `pip install .` carries
them; everything else about the package lives in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PROTOS = ROOT / "protos"


class BuildWithStubs(build_py):
    def run(self) -> None:
        super().run()
        # An editable install imports from the source tree; anything else from build_lib.
        self._generate(ROOT if self.editable_mode else Path(self.build_lib))

    def _generate(self, out: Path) -> None:
        from grpc_tools import protoc

        protos = sorted(str(p) for p in PROTOS.glob("boletos/v1/*.proto"))
        if not protos:
            raise RuntimeError(f"no .proto files under {PROTOS}")
        include = Path(protoc.__file__).parent / "_proto"
        args = [
            "protoc",
            f"-I{PROTOS}",
            f"-I{include}",
            f"--python_out={out}",
            f"--pyi_out={out}",
            f"--grpc_python_out={out}",
            *protos,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed to generate the gRPC stubs")


setup(cmdclass={"build_py": BuildWithStubs})
