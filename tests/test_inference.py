"""True early exit: work stops at the first confident exit, batched equals one by one."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
import torch

from app.session import Outcome, Session

from ranet import EarlyExitEngine, load_model
from ranet.model import ExitRunner, fold_batchnorm
from ranet.flops import exit_infos
from ranet.policies import (budgeted_thresholds, exits_for_thresholds, leaves, single_threshold_for_budget,
                            thresholds_for_budget)


@pytest.fixture(scope="module")
def model(tiny_weights):
    return load_model(tiny_weights, device="cpu")


@pytest.fixture(scope="module")
def batch():
    torch.manual_seed(1)
    return torch.randn(16, 3, 32, 32)


def _classify_counting_calls(engine, batch):
    """Classify while counting forward calls of every block and exit head."""
    model = engine.model
    calls = {"blocks": 0, "heads": [0] * model.num_exits}
    handles = [b.register_forward_hook(lambda *_: calls.__setitem__("blocks", calls["blocks"] + 1))
               for flow in model.scale_flows for b in flow]
    for k, head in enumerate(model.classifier):
        handles.append(head.register_forward_hook(lambda *_, k=k: calls["heads"].__setitem__(k, calls["heads"][k] + 1)))
    try:
        return engine.classify(batch), calls
    finally:
        for h in handles:
            h.remove()


def _full(model, batch):
    """Every exit's logits and max-softmax confidences ``[N, K]``, from a plain forward pass."""
    with torch.no_grad():
        logits = model(batch)
    return logits, torch.stack([l.softmax(-1).max(-1).values for l in logits], 1)


def _middle(values: torch.Tensor) -> float:
    """A threshold halfway between the two middle values: no sample sits on it, so the engine's
    folded BatchNorms (float rounding apart) cannot move one across it."""
    v = values.flatten().sort().values
    return float(v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def test_threshold_zero_stops_at_the_first_exit(model, batch):
    engine = EarlyExitEngine(model, 0.0)
    results, calls = _classify_counting_calls(engine, batch)
    assert {r.exit for r in results} == {1}
    assert calls["heads"] == [1] + [0] * (model.num_exits - 1)
    assert calls["blocks"] == 1  # flow 0, block 1 only: the finer flows never ran
    assert all(r.resolution_path == ["8x8"] for r in results)
    assert results[0].flops == engine.exits[0].flops


def test_threshold_above_one_runs_to_the_last_exit(model, batch):
    engine = EarlyExitEngine(model, 1.01)
    results, calls = _classify_counting_calls(engine, batch)
    assert {r.exit for r in results} == {model.num_exits}
    assert calls["heads"] == [1] * model.num_exits
    assert all(len(r.exit_confidences) == model.num_exits for r in results)
    assert results[0].resolution_path == ["8x8", "16x16", "32x32"]


def test_samples_that_left_are_removed_from_the_batch(model, batch):
    full, confs = _full(model, batch)
    t = _middle(confs[:, 0])  # about half the batch leaves at exit 1
    engine = EarlyExitEngine(model, [t] + [1.01] * (model.num_exits - 1))
    sizes = []
    handle = engine.model.classifier[1].register_forward_hook(lambda m, inp, out: sizes.append(inp[0].shape[0]))
    results = engine.classify(batch)
    handle.remove()
    leaving = int((confs[:, 0] >= t).sum())
    assert 0 < leaving < len(batch)
    assert sizes == [len(batch) - leaving]
    assert sum(r.exit == 1 for r in results) == leaving


def test_batched_equals_one_by_one_and_full_forward(model, batch):
    full, confs = _full(model, batch)
    t = _middle(confs)
    engine = EarlyExitEngine(model, t)
    together = engine.classify(batch)
    alone = [engine.classify(batch[i : i + 1])[0] for i in range(len(batch))]
    expected_exits = exits_for_thresholds(confs, [t] * model.num_exits)
    for i, (a, b) in enumerate(zip(together, alone)):
        assert (a.exit, a.class_index) == (b.exit, b.class_index)
        assert a.confidence == pytest.approx(b.confidence, abs=1e-5)
        assert a.exit - 1 == int(expected_exits[i])
        assert a.class_index == int(full[a.exit - 1][i].argmax())


def _exit2_batch_sizes(engine, batches, **kwargs):
    sizes = []
    handle = engine.model.classifier[1].register_forward_hook(lambda m, inp, out: sizes.append(inp[0].shape[0]))
    try:
        return list(engine.stream(batches, **kwargs)), sizes
    finally:
        handle.remove()


def test_stream_pools_the_images_that_go_on_and_changes_no_answer(model, batch):
    _, confs = _full(model, batch)
    t = _middle(confs[:, 0])  # about half the images go on past exit 1
    engine = EarlyExitEngine(model, [t] + [1.01] * (model.num_exits - 1))
    quarters = [batch[i : i + 4] for i in range(0, len(batch), 4)]
    streamed, sizes = _exit2_batch_sizes(engine, quarters)
    assert sorted(p for p, _ in streamed) == list(range(len(batch)))  # each image once
    by_position = dict(streamed)
    one_by_one = [r for q in quarters for r in engine.classify(q)]
    assert [(r.exit, r.class_index) for r in one_by_one] == [(by_position[i].exit, by_position[i].class_index)
                                                              for i in range(len(batch))]
    going_on = sum(r.exit > 1 for r in one_by_one)
    # Exit 2 ran on pools of at least a batch's worth (4), the rest at the end of the stream.
    assert sum(sizes) == going_on and all(n >= 4 for n in sizes[:-1])
    assert len(sizes) < sum(any(r.exit > 1 for r in engine.classify(q)) for q in quarters)
    # max_wait=0: nothing waits for later batches, exit 2 runs once per batch that has images going on.
    _, unpooled = _exit2_batch_sizes(engine, quarters, max_wait=0)
    assert unpooled == [n for n in (sum(r.exit > 1 for r in engine.classify(q)) for q in quarters) if n]


def test_stream_charges_each_image_the_steps_it_took(model, batch):
    _, confs = _full(model, batch)
    engine = EarlyExitEngine(model, [_middle(confs[:, 0])] + [1.01] * (model.num_exits - 1))
    results = engine.classify(batch)
    early = [r.ms for r in results if r.exit == 1]
    late = [r.ms for r in results if r.exit == model.num_exits]
    assert early and late and max(early) < min(late)


def _steps_by_thread(monkeypatch) -> list[tuple[str, int]]:
    """Record, for every exit step, the thread that ran it and its intra-op threads."""
    seen = []
    step = ExitRunner.step

    def recording(runner):
        seen.append((threading.current_thread().name, torch.get_num_threads()))
        return step(runner)

    monkeypatch.setattr(ExitRunner, "step", recording)
    return seen


def _lane_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ranet-lane")]


def test_lanes_share_out_the_batches_and_change_no_answer_or_position(model, batch, monkeypatch):
    _, confs = _full(model, batch)
    engine = EarlyExitEngine(model, [_middle(confs[:, 0])] + [1.01] * (model.num_exits - 1))
    pairs = [batch[i : i + 2] for i in range(0, len(batch), 2)]
    one_lane = dict(engine.stream(pairs))
    threads = torch.get_num_threads()
    seen = _steps_by_thread(monkeypatch)
    lanes = dict(engine.stream(iter(pairs), lanes=2))
    assert sorted(lanes) == list(range(len(batch)))
    assert [(lanes[p].class_index, lanes[p].exit) for p in range(len(batch))] == [
        (one_lane[p].class_index, one_lane[p].exit) for p in range(len(batch))]
    # The convolutions of one intra-op thread may round the last bit differently.
    assert [lanes[p].confidence for p in range(len(batch))] == pytest.approx(
        [one_lane[p].confidence for p in range(len(batch))], abs=1e-6)
    assert {name for name, _ in seen} == {"ranet-lane-0", "ranet-lane-1"}
    assert {n for _, n in seen} == {max(1, threads // 2)}  # each lane on its share of the threads
    assert torch.get_num_threads() == threads and not _lane_threads()


def test_a_short_stream_runs_as_one_lane_with_every_thread(model, batch, monkeypatch):
    engine = EarlyExitEngine(model, 0.0)
    seen = _steps_by_thread(monkeypatch)
    assert len(list(engine.stream([batch[:2], batch[2:4], batch[4:6]], lanes=2))) == 6
    assert {name for name, _ in seen} == {threading.current_thread().name}
    assert {n for _, n in seen} == {torch.get_num_threads()}


def test_a_failure_in_a_lane_is_raised_and_closing_stops_the_lanes(model, batch):
    engine = EarlyExitEngine(model, 0.0)

    def failing():
        yield from (batch[i : i + 2] for i in range(0, 10, 2))
        raise RuntimeError("cannot read the next batch")

    with pytest.raises(RuntimeError, match="cannot read the next batch"):
        list(engine.stream(failing(), lanes=2))
    assert not _lane_threads()
    taken = []

    def endless():
        while True:
            taken.append(1)
            yield batch[:2]

    results = engine.stream(endless(), lanes=2)
    next(results)
    results.close()
    assert not _lane_threads()
    pulled = len(taken)
    time.sleep(0.05)
    assert len(taken) == pulled  # nothing reads on after the stream is closed


def test_all_exits_mode_computes_everything_but_decides_the_same(model, batch):
    engine = EarlyExitEngine(model, 0.12)
    lazy, eager = engine.classify(batch), engine.classify(batch, all_exits=True)
    assert [r.exit for r in lazy] == [r.exit for r in eager]
    assert all(r.complete and len(r.exit_confidences) == model.num_exits for r in eager)


def test_result_carries_label_top5_and_timing(model, batch):
    r = EarlyExitEngine(model, 0.5).classify(batch[:1])[0]
    assert r.label == model.meta.categories[r.class_index]
    assert len(r.exit_top5[-1]) == 5 and r.exit_top5[-1][0][0] == r.class_index
    assert r.ms > 0
    assert set(r.to_json()) >= {"label", "class_index", "confidence", "exit", "flops", "resolution_path", "ms"}
    assert r.to_json()["exit_predictions"][r.exit - 1] == r.class_index


def test_budgeted_thresholds_follow_the_papers_procedure():
    torch.manual_seed(0)
    conf = torch.rand(1000, 4)
    p = 1.0  # equal shares: 250 leave at each exit
    t = budgeted_thresholds(conf, p)
    exits = exits_for_thresholds(conf, t)
    counts = torch.bincount(exits, minlength=4).tolist()
    assert counts[:3] == [250, 250, 250] and counts[3] == 250
    assert t[-1] == float("-inf")


def test_thresholds_for_budget_respect_the_budget():
    torch.manual_seed(0)
    conf = torch.rand(2000, 4)
    flops = [10, 20, 30, 40]
    for budget in (15, 25, 35):
        t = thresholds_for_budget(conf, flops, budget)
        spent = torch.tensor(flops, dtype=torch.float64)[exits_for_thresholds(conf, t)].mean()
        assert spent <= budget
        assert spent > budget - 5


def test_single_threshold_for_budget_is_the_largest_that_fits():
    torch.manual_seed(0)
    conf = torch.rand(2000, 4)
    flops = [10, 20, 30, 40]
    cost = torch.tensor(flops, dtype=torch.float64)
    for budget in (12, 25, 38):
        t = single_threshold_for_budget(conf, flops, budget)
        assert t[:3] == [t[0]] * 3 and t[3] == float("-inf")
        assert cost[exits_for_thresholds(conf, t)].mean() <= budget
        higher = float(conf[:, :3][conf[:, :3] > t[0]].min())  # the next validation confidence up
        assert cost[exits_for_thresholds(conf, [higher] * 3 + [float("-inf")])].mean() > budget
    assert single_threshold_for_budget(conf, flops, 5) == [float("-inf")] * 4  # below the first exit


def test_budget_calibration_takes_one_threshold_only_where_it_scores_higher():
    from ranet.metrics import ExitOutputs, calibrate_budget

    torch.manual_seed(0)
    n, flops = 1000, [10, 20, 30]
    labels = torch.zeros(n, dtype=torch.long)
    first = torch.rand(n)
    # Exit 1 is right when confident, exit 2 never is and is never confident, exit 3 always is:
    # one threshold sends nobody to exit 2, the paper's geometric shares always send some.
    conf = torch.stack([first, 0.05 + 0.01 * torch.rand(n), torch.ones(n)], 1)
    pred = torch.stack([(first < 0.3).long(), torch.ones(n, dtype=torch.long), labels], 1)
    thresholds, family = calibrate_budget(ExitOutputs(conf, pred), labels, flops, 20)
    assert family == "single" and thresholds == single_threshold_for_budget(conf, flops, 20)
    always_right = ExitOutputs(conf, torch.zeros(n, 3, dtype=torch.long))
    thresholds, family = calibrate_budget(always_right, labels, flops, 20)  # a tie keeps the paper's
    assert family == "geometric" and thresholds == thresholds_for_budget(conf, flops, 20)


def _pretend_gpu(monkeypatch, fits: int) -> dict:
    """Runners report a GPU that cannot hold a step of more than ``fits`` images, until the engine
    moves its model to the CPU (``state["gpu"]`` turns False then)."""
    state = {"gpu": True}
    real_step = ExitRunner.step

    def step(self):
        if state["gpu"] and self.batch_size > fits:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return real_step(self)

    monkeypatch.setattr(ExitRunner, "step", step)
    monkeypatch.setattr(ExitRunner, "device", property(
        lambda self: torch.device("cuda") if state["gpu"] else torch.device("cpu")))
    return state


def test_out_of_gpu_memory_falls_back_to_smaller_batches(model, batch, monkeypatch):
    expected = EarlyExitEngine(model, 0.12).classify(batch)
    _pretend_gpu(monkeypatch, fits=4)
    notices: list[str] = []
    got = EarlyExitEngine(model, 0.12, on_notice=notices.append).classify(batch)
    assert [(r.exit, r.class_index) for r in got] == [(r.exit, r.class_index) for r in expected]
    assert notices and "smaller batches" in notices[0]


def test_out_of_gpu_memory_for_one_image_continues_on_the_cpu(model, batch, monkeypatch):
    expected = EarlyExitEngine(model, 0.12).classify(batch)
    state = _pretend_gpu(monkeypatch, fits=0)
    notices: list[str] = []
    engine = EarlyExitEngine(model, 0.12, on_notice=notices.append)
    engine.model.to = lambda device: state.update(gpu=False)  # the CPU copy is already on the CPU
    got = engine.classify(batch)
    assert [(r.exit, r.class_index) for r in got] == [(r.exit, r.class_index) for r in expected]
    assert notices[-1] == "out of GPU memory for a single image: continuing on the CPU"
    assert not state["gpu"]


def test_out_of_memory_on_the_cpu_is_not_hidden(model, batch, monkeypatch):
    def step(self):
        raise torch.OutOfMemoryError("out of memory")

    monkeypatch.setattr(ExitRunner, "step", step)
    with pytest.raises(torch.OutOfMemoryError):
        EarlyExitEngine(model, 0.12).classify(batch)


def test_folded_batchnorm_gives_the_same_outputs_without_batchnorm_layers(model, batch):
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # the original is untouched
    with torch.no_grad():
        for a, b in zip(model(batch), folded(batch)):
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in EarlyExitEngine(model).model.modules())
    assert fold_batchnorm(folded) is folded and EarlyExitEngine(folded).model is folded  # shared, not copied


def test_exits_for_thresholds_agree_on_numpy_and_torch():
    """The app decides on numpy arrays (its GUI thread runs no torch), the engine on tensors."""

    rng = np.random.default_rng(1)
    conf = rng.random((500, 6)).astype(np.float32)
    conf[rng.random((500, 6)) < 0.2] = np.nan  # exits never computed
    for thresholds in ([0.5] * 6, [0.9, 0.8, 0.7, 0.6, 0.5, float("-inf")], [float("inf")] * 6, [0.3] * 7):
        from_numpy = exits_for_thresholds(conf, thresholds)
        from_torch = exits_for_thresholds(torch.from_numpy(conf), thresholds)
        assert isinstance(from_numpy, np.ndarray)
        np.testing.assert_array_equal(from_numpy, from_torch.numpy())
    assert exits_for_thresholds(np.float32([[0.6, 0.9], [0.4, 0.2]]), [0.5, 0.5]).tolist() == [0, 1]


# -- the exit rule: written once (ranet.policies.leaves); the engine, the evaluation and the
# app's session decide through it and agree, for ordinary, NaN and infinite thresholds alike.

NAN, INF = math.nan, math.inf


def _threshold_sets(k: int, middle: float) -> list[list[float]]:
    return [[middle] * k, [NAN] * k, [INF] * k, [-INF] * k, [NAN, middle] + [INF] * (k - 2),
            [-INF, NAN] + [middle] * (k - 2), [middle] * (k - 1) + [NAN]]


def test_leaves_is_the_rule_on_tensors_and_numpy():
    conf = np.float32([0.2, 0.5, 0.9, np.nan])
    for threshold in (0.5, NAN, INF, -INF):
        expected = [c >= threshold for c in conf.tolist()]  # NaN on either side never passes
        assert leaves(conf, threshold, last=False).tolist() == expected
        assert leaves(torch.from_numpy(conf), threshold, last=False).tolist() == expected
        assert leaves(conf, threshold, last=True).all() and bool(leaves(torch.from_numpy(conf), threshold, True).all())


def test_engine_evaluation_and_session_take_the_same_exit(model, batch):
    """The engine decides exit by exit on the samples still running; the evaluation and the
    session decide afterwards from every exit's confidence. All three must agree."""
    k = model.num_exits
    every = EarlyExitEngine(model, 0.0).classify(batch, all_exits=True)
    conf = torch.tensor([r.exit_confidences for r in every])  # [N, K], float32 like the engine's
    middle = float(conf[:, 0].median())
    session = Session(exit_infos(model.config, 32), model.meta.categories)
    session.add([Outcome(f"img{i}.png", f"img{i}.png", result=r) for i, r in enumerate(every)])
    for thresholds in _threshold_sets(k, middle):
        engine = [r.exit - 1 for r in EarlyExitEngine(model, thresholds).classify(batch)]
        evaluation = exits_for_thresholds(conf, thresholds).tolist()
        session.set_thresholds(thresholds)
        in_session = [session.summary(row).exit for row in range(len(batch))]
        assert engine == evaluation == in_session, thresholds


def test_the_engines_device_follows_its_model(tiny_weights):
    """As when the engine falls back to the CPU after running out of GPU memory."""
    engine = EarlyExitEngine(load_model(tiny_weights, device="cpu"))
    assert engine.device.type == "cpu"
    engine.model.to("meta")
    assert engine.device.type == "meta"
