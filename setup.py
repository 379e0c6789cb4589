"""The build step pyproject.toml cannot express: the top-level migrations/, scenarios/, voices/
and cuckoo.toml go into the wheel as cuckoo/_shipped/ (cuckoo.resources finds them there). The
source tree keeps them at the top, where the project layout promises them."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("migrations", "scenarios", "voices", "cuckoo.toml")  # = cuckoo.resources.SHIPPED
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


class BuildWithShipped(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the source tree itself
            return
        target = Path(self.build_lib, "cuckoo", "_shipped")
        for name in SHIPPED:
            src, dst = ROOT / name, target / name
            if not src.exists():
                raise SystemExit(f"setup.py: {src} is missing; cannot build a complete wheel")
            if src.is_dir():
                shutil.copytree(src, dst, ignore=SKIP, dirs_exist_ok=True)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildWithShipped})
