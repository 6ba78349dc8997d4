"""The command line: flops, classify; one-line errors and the documented exit codes."""

from __future__ import annotations

import json

import pytest

from testsupport import SAMPLES
from ranet.commands.cli import main


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_flops_json_for_a_preset(capsys):
    assert main(["flops", "--preset", "cifar10_default", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exit_flops"][-1] == 61272316 and out["exit_params"][-1] == 2451158
    assert out["input_size"] == 32


def test_flops_table_for_weights(tiny_weights, capsys):
    assert main(["flops", "--weights", str(tiny_weights)]) == 0
    out = capsys.readouterr().out
    assert "tiny test RANet" in out and "8x8 -> 16x16 -> 32x32" in out


def test_classify_json_lines_and_exit_codes(tiny_weights, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    code = main(["classify", "--weights", str(tiny_weights), "--json", "--threshold", "0.5",
                 str(SAMPLES / "Bag"), str(bad)])
    captured = capsys.readouterr()
    rows = _json_lines(captured.out)
    good = [r for r in rows if r["ok"]]
    assert len(good) == len(list((SAMPLES / "Bag").glob("*.png")))
    assert {"path", "label", "class_index", "confidence", "exit", "flops", "resolution_path", "ms"} <= set(good[0])
    assert 1 <= good[0]["exit"] <= 6
    failed = [r for r in rows if not r["ok"]]
    assert len(failed) == 1 and failed[0]["path"] == str(bad) and failed[0]["error"]
    assert code == 1
    assert "Traceback" not in captured.err


def test_classify_all_good_is_exit_code_zero(tiny_weights, capsys):
    assert main(["classify", "--weights", str(tiny_weights), str(SAMPLES / "Trouser")]) == 0
    assert "exit" in capsys.readouterr().out


def test_classify_with_a_calibrated_budget(tiny_weights, tmp_path, capsys):
    """``--budget 40`` finds the weights' "40%" thresholds, exit by exit; an unknown one is a usage error."""
    from dataclasses import replace

    from ranet import load_model
    from ranet.weights import Budget, save_weights

    model = load_model(str(tiny_weights))
    k = len(model.meta.exit_flops)
    everyone_at_2 = Budget("40%", (1.1, 0.0) + (1.1,) * (k - 3) + (float("-inf"),))
    path = save_weights(tmp_path / "budget.pt", replace(model.meta, budgets=(everyone_at_2,)), model.state_dict(),
                        half=False)
    assert main(["classify", "--weights", str(path), "--json", "--budget", "40", str(SAMPLES / "Bag")]) == 0
    assert {row["exit"] for row in _json_lines(capsys.readouterr().out)} == {2}
    assert main(["classify", "--weights", str(path), "--budget", "25%", str(SAMPLES / "Bag")]) == 2
    err = capsys.readouterr().err
    assert "no calibrated thresholds for a budget of '25%'" in err and "known: 40%" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["classify", "--threshold", "1.5", "x.png"],
    ["classify", "--device", "tpu", "x.png"],
    ["flops", "--preset", "nope"],
])
def test_usage_errors_are_one_line_and_code_2(argv, tiny_weights, capsys):
    if argv[0] == "classify":
        argv = argv[:1] + ["--weights", str(tiny_weights)] + argv[1:]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_checkpoint_is_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.pth.tar"
    junk.write_bytes(b"\x00" * 100)
    assert main(["classify", "--weights", str(junk), str(SAMPLES)]) == 2
    err = capsys.readouterr().err
    assert "junk.pth.tar" in err and err.count("\n") == 1
