"""The app's first pass streams: every file is reported once, unreadable ones with their reason,
images that go on past exit 1 are pooled across batches and come later, with the engine's answers."""

from __future__ import annotations

import shutil

import pytest
import torch

from app.workers import ClassifyWorker
from app_helpers import SAMPLES
from ranet import EarlyExitEngine, load_model, load_image, scan_images


def test_classify_worker_reports_every_file_once_with_the_engines_answers(tmp_path, tiny_weights):
    for image in sorted(SAMPLES.glob("*/*.png"))[:14]:
        target = tmp_path / image.parent.name / image.name
        target.parent.mkdir(exist_ok=True)
        shutil.copy(image, target)
    (tmp_path / "Bag" / "broken.png").write_bytes(b"not an image")
    model = load_model(tiny_weights, device="cpu")
    engine = EarlyExitEngine(model)
    paths = [p for p in scan_images([tmp_path]) if p.name != "broken.png"]
    inputs = torch.stack([model.transform(load_image(p)) for p in paths])
    first_exit = engine.classify(inputs, all_exits=True)
    confidences = sorted(r.exit_confidences[0] for r in first_exit)
    threshold = (confidences[len(confidences) // 2 - 1] + confidences[len(confidences) // 2]) / 2
    thresholds = [threshold] + [1.01] * (model.num_exits - 1)  # half go on, to the last exit
    engine.set_thresholds(thresholds)
    expected = {str(p): (r.class_index, r.exit) for p, r in zip(paths, engine.classify(inputs))}
    assert {e for _, e in expected.values()} == {1, model.num_exits}

    emitted, progress = [], []
    worker = ClassifyWorker(engine.model, [str(tmp_path)], thresholds, batch_size=4)
    worker.signals.result.connect(emitted.append)
    worker.signals.progress.connect(lambda done, total: progress.append((done, total)))
    worker.run()

    outcomes = [o for chunk in emitted for o in chunk]
    assert sorted(str(o.source) for o in outcomes) == sorted([*expected, str(tmp_path / "Bag" / "broken.png")])
    assert [o.error for o in outcomes if o.result is None] == [
        "not an image file, or an image format that cannot be read"]
    assert {str(o.source): (o.result.class_index, o.result.exit) for o in outcomes if o.result} == expected
    assert progress[-1] == (len(expected) + 1, len(expected) + 1)
    # Images that went on waited for others: some image was shown before one read ahead of it.
    read_at = {str(path): k for k, path in enumerate(paths)}
    shown = [read_at[str(o.source)] for o in outcomes if o.result]
    assert shown != sorted(shown)


def test_complete_worker_reads_as_the_first_pass_and_names_files_gone_since(tmp_path, tiny_weights):
    from PIL import Image

    from app.workers import CompleteWorker, Pixels

    images = sorted(SAMPLES.glob("*/*.png"))[:2]
    for image in images:
        shutil.copy(image, tmp_path / image.name)
    pasted = Image.open(images[0]).convert("RGB")
    sources = [str(tmp_path / images[0].name), str(tmp_path / "gone.png"), Pixels("pasted", pasted),
               str(tmp_path / images[1].name), str(tmp_path / images[0].name), str(tmp_path / "gone too.png")]
    model = load_model(tiny_weights, device="cpu")
    engine = EarlyExitEngine(model)
    done = []
    worker = CompleteWorker(engine.model, [10, 11, 12, 13, 14, 15], sources)
    worker.signals.result.connect(done.append)
    worker.run()

    [completion] = done
    assert sorted(completion.failed) == [(11, "file not found"), (15, "file not found")]
    assert sorted(completion.rows) == [10, 12, 13, 14] and len(completion.results) == 4
    by_row = dict(zip(completion.rows, completion.results))
    expected = engine.classify(torch.stack([model.transform(load_image(tmp_path / images[0].name)),
                                            model.transform(pasted),
                                            model.transform(load_image(tmp_path / images[1].name)),
                                            model.transform(load_image(tmp_path / images[0].name))]),
                               all_exits=True)
    for row, result in zip([10, 12, 13, 14], expected):
        assert by_row[row].complete and by_row[row].exit_confidences == pytest.approx(result.exit_confidences)
