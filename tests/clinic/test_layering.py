"""The layering contract in pyproject.toml (`[tool.importlinter]`, run by `make test`) holds
for the code as it is, and catches each kind of arrow that runs back up: an app importing
from a layer above it, an app importing another app's API or admin, and a circle between
the modules of one app."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "kernel", "accounts", "audit", "practice", "patients", "appointments", "care",
    "treatments", "notifications", "diary", "records", "waitlist", "demo", "clinic",
]  # fmt: skip
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the apps' source and the contract, to break on purpose."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")


def test_the_code_keeps_the_layering():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_from_a_layer_above_breaks_it(tree: Path):
    add_line(tree / "appointments" / "selectors.py", "import treatments.models")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "Apps import downward only BROKEN" in result.stdout
    assert "appointments.selectors -> treatments.models" in result.stdout


def test_an_import_of_another_apps_api_breaks_it(tree: Path):
    add_line(tree / "treatments" / "services.py", "import practice.api")  # a layer below

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "another app's API or admin (only the project's wiring does) BROKEN" in result.stdout
    assert "Apps import downward only KEPT" in result.stdout


def test_a_circle_between_the_modules_of_an_app_breaks_it(tree: Path):
    add_line(tree / "notifications" / "choices.py", "from notifications import services")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert "No circles between the modules of an app BROKEN" in result.stdout
