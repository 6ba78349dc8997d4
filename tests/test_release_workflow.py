""".github/workflows/release.yml, checked as far as a Linux machine without hosted runners can: the
YAML is valid, the matrix has the four builds, and every command it runs exists in the project.
It has never run on a hosted runner; these tests do not say it works there."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflow")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
DOCS = ROOT / "docs" / "packaging.md"
sys.path.insert(0, str(ROOT / "packaging"))
import make_archive  # noqa: E402


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _build_job(workflow: dict) -> dict:
    (job,) = workflow["jobs"].values()
    return job


def _runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def _expand(text: str, entry: dict) -> str:
    """Substitute one matrix entry into ``${{ matrix.x }}`` (empty when the entry lacks it)."""
    return re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: str(entry.get(m.group(1), "")), text)


def test_it_is_a_workflow_triggered_by_tags_and_by_hand(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "v*" in triggers["push"]["tags"] and "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read"}
    header = WORKFLOW.read_text(encoding="utf-8").split("\nname:")[0]
    assert "NOT YET RUN" in header  # says plainly that it has never run


def test_the_matrix_builds_linux_cpu_and_cuda_windows_x64_and_macos_arm64(workflow):
    job = _build_job(workflow)
    entries = {e["flavour"]: e for e in job["strategy"]["matrix"]["include"]}
    assert set(entries) == {"linux-cpu", "linux-cuda", "windows-x64", "macos-arm64"}
    assert entries["linux-cpu"]["cpu_torch"].endswith("+cpu")
    assert "cpu_torch" not in entries["linux-cuda"] and "cpu_torch" not in entries["windows-x64"]
    assert entries["windows-x64"]["os"].startswith("windows") and entries["windows-x64"]["exe"].endswith(".exe")
    assert entries["macos-arm64"]["os"] in {"macos-14", "macos-15", "macos-latest"}  # Apple silicon runners
    assert entries["macos-arm64"]["exe"].startswith("dist/RANetDemo.app/Contents/MacOS/")
    assert job["runs-on"] == "${{ matrix.os }}"


def test_each_job_installs_builds_selftests_headless_and_uploads_the_archive(workflow):
    job = _build_job(workflow)
    runs = "\n".join(_runs(job))
    assert "pip install -e \".[build]\"" in runs
    assert "pyinstaller --noconfirm build_app.spec" in runs
    assert "--selftest" in runs and "packaging/make_archive.py" in runs and "GITHUB_STEP_SUMMARY" in runs
    selftest = next(step for step in job["steps"] if "--selftest" in step.get("run", ""))
    assert selftest["env"]["QT_QPA_PLATFORM"] == "offscreen"
    upload = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact"))
    assert {"dist/RANetDemo-*.tar.gz", "dist/RANetDemo-*.zip"} <= set(upload["with"]["path"].split())
    assert all(step.get("uses", "@").split("@")[1] for step in job["steps"] if "uses" in step)  # pinned versions


def test_every_command_it_runs_exists_in_the_project(workflow):
    job = _build_job(workflow)
    scripts = [_expand(run, entry) for run in _runs(job) for entry in job["strategy"]["matrix"]["include"]]
    words = [word for script in scripts for line in script.replace("\\\n", " ").splitlines()
             for word in shlex.split(line, comments=True)]
    project_files = {w for w in words if re.fullmatch(r"[\w./-]+\.(py|spec|toml|cfg|sh)", w)}
    assert project_files >= {"build_app.spec", "packaging/make_archive.py"}
    for name in project_files:
        assert (ROOT / name).is_file(), f"release.yml runs {name}, which is not in the project"
    # Whatever it runs from the venv was installed there by `pip install -e ".[build]"` or is pip's own.
    tools = {Path(w).name for w in words if w.startswith((".venv/bin/", ".venv/Scripts/"))}
    assert tools <= {"pip", "python", "pyinstaller"}, tools
    # The executables it self-tests are the ones the spec builds on that OS.
    from spec_config import spec_config
    for entry in job["strategy"]["matrix"]["include"]:
        platform = {"linux": "linux", "windows": "win32", "macos": "darwin"}[entry["flavour"].split("-")[0]]
        assert Path(entry["exe"]).name == spec_config(platform).executable


def test_the_extra_it_installs_exists(workflow):
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(req.lower().startswith("pyinstaller") for req in extras["build"])


def test_its_install_commands_are_the_documented_ones(workflow):
    """The documented build (docs/packaging.md, 'Building it') and the workflow's install agree."""
    documented = DOCS.read_text(encoding="utf-8")
    for command in ('pip install -e ".[build]"', "pyinstaller --noconfirm build_app.spec",
                    "python packaging/make_archive.py", 'pip install "torch==2.13.0+cpu"'):
        assert command in documented, command
    entries = _build_job(workflow)["strategy"]["matrix"]["include"]
    assert {e.get("cpu_torch") for e in entries} - {None} == {"torch==2.13.0+cpu"}


def test_archive_names_follow_the_build(tmp_path):
    dist = tmp_path / "dist"
    (dist / "RANetDemo" / "_internal" / "torch" / "lib").mkdir(parents=True)
    assert not make_archive.is_cuda_build(dist / "RANetDemo")
    (dist / "RANetDemo" / "_internal" / "nvidia").mkdir()
    assert make_archive.is_cuda_build(dist / "RANetDemo")
