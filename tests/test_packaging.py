"""pyproject.toml and environment.yml name the same packages; the two commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names of packages whose PyPI name differs.
CONDA_TO_PYPI = {"pytorch": "torch", "opencv": "opencv-python-headless"}
CONDA_ONLY = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {_name(r) for r in requirements}


def _conda_packages() -> set[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in environment["channels"]
    names = set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):  # the pip section installs the package itself
            assert entry["pip"] == ["-e ."]
            continue
        name = _name(entry)
        if name not in CONDA_ONLY:
            names.add(CONDA_TO_PYPI.get(name, name))
    return names


def test_environment_and_pyproject_name_the_same_packages():
    assert _conda_packages() == _pyproject_packages()


def test_environment_pins_python_311():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in environment["dependencies"]


def test_makefile_has_the_readme_commands():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo:", "test:", "lab:"):
        assert re.search(rf"^{target}", makefile, re.MULTILINE), target
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
