"""Nothing machine-specific in what ships: no home, temporary or work-folder paths of the machine
a model was trained or a page was written on, in the shipped weights' metadata or the documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

# An absolute path into a home, temporary or work folder. The look-behind keeps relative paths
# (runs/tmp/x) and URLs (https://host/work/x) out: the path must start the word.
MACHINE_PATH = re.compile(
    r"(?<![\w.~/\\-])(?:"
    r"/(?:root|tmp|work|scratch)(?![\w.-])"
    r"|/(?:home|Users)/[\w.-]+"
    r"|/var/(?:tmp|folders)(?![\w.-])"
    r"|/private/(?:tmp|var)(?![\w.-])"
    r"|[A-Za-z]:[\\/]+(?:Users|Documents and Settings)[\\/]"
    r")")

WEIGHTS = sorted((ROOT / "weights").glob("*.pt"))
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "weights").glob("*.md")), *sorted((ROOT / "docs").glob("*.md"))]


def _hits(text: str) -> list[str]:
    """The offending paths in ``text``, each with a little of the text around it."""
    return [f"{m.group()!r} in ...{text[max(0, m.start() - 40):m.end() + 40]}..." for m in MACHINE_PATH.finditer(text)]


def _strings(obj, where: str):
    """Every string in a loaded weights file (dict keys included), with where it sits; tensors skipped."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _strings(key, f"{where} (a key)")
            yield from _strings(value, f"{where}/{key}")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from _strings(value, f"{where}[{i}]")
    elif isinstance(obj, str):
        yield where, obj


@pytest.mark.parametrize("text", ["--out /tmp/runP", "--data-root /work/main/.devrun/x", "`/root/.cache`",
                                  "/home/alice/ranet", "/Users/bob/Desktop", "/var/folders/xy/T/", "(/tmp)",
                                  r"C:\Users\carol\ranet", "C:/Users/carol", "/private/var/x", "/var/tmp/run"])
def test_the_pattern_finds_machine_paths(text):
    assert _hits(text)


@pytest.mark.parametrize("text", ["runs/tmp/F2", "https://example.org/work/x", "--out runs/next", "/homework",
                                  "weights/ranet_fashion_mnist.pt", "~/.cache/torch", "a/b/root/c", "T-shirt/top",
                                  "/workspace"])
def test_the_pattern_leaves_ordinary_text_alone(text):
    assert not _hits(text)


def test_something_ships():
    assert (ROOT / "weights" / "ranet_fashion_mnist.pt") in WEIGHTS
    assert ROOT / "README.md" in DOCUMENTS and ROOT / "weights" / "MODEL_CARD.md" in DOCUMENTS
    assert any(p.parent.name == "docs" for p in DOCUMENTS)


@pytest.mark.parametrize("path", WEIGHTS, ids=lambda p: f"weights/{p.name}")
def test_weights_metadata_has_no_machine_paths(path):
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    found = [f"{where}: {hit}" for where, text in _strings({k: v for k, v in checkpoint.items() if k != "state_dict"}, "")
             for hit in _hits(text)]
    found += [f"state_dict key {key!r}" for key in checkpoint.get("state_dict", {}) if _hits(key)]
    if found:
        pytest.fail(f"{path.relative_to(ROOT)}: {len(found)} machine path(s):\n" + "\n".join(found), pytrace=False)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_documents_have_no_machine_paths(path):
    found = [f"line {n}: {hit}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             for hit in _hits(line)]
    if found:
        pytest.fail(f"{path.relative_to(ROOT)}: {len(found)} machine path(s):\n" + "\n".join(found), pytrace=False)
