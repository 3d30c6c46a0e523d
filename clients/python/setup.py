"""Generates the stubs from ../../proto while building (pyproject.toml holds the metadata).

The stubs come from the repository's proto files, so build from a checkout:
    /usr/bin/python3 -m pip install --no-build-isolation --no-deps clients/python
"""
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate_stubs  # noqa: E402


class BuildWithStubs(build_py):
    def run(self):
        super().run()
        proto_root = HERE.parent.parent / "proto"
        if not proto_root.is_dir():
            raise SystemExit(f"setup.py: {proto_root} not found: build from a workerpair checkout")
        generate_stubs.generate(Path(self.build_lib), proto_root)


setup(cmdclass={"build_py": BuildWithStubs})
