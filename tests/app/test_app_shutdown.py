"""Closing the window in the middle of a folder run shuts the workers down cleanly."""

from __future__ import annotations

import os

from app_helpers import SAMPLES, drop, wait_rows


def test_close_during_a_folder_run_stops_every_worker(qtbot, window, tmp_path):
    folder = tmp_path / "many" / "Coat"
    folder.mkdir(parents=True)
    sample = next((SAMPLES / "Coat").glob("*.png"))
    for i in range(1500):
        os.symlink(sample, folder / f"{i:05d}.png")
    before = sorted(p.name for p in folder.iterdir())
    drop(window, [tmp_path / "many"])
    wait_rows(qtbot, window, 1)
    window.close()
    pools = [window.controller.compute.pool, window.controller.io.pool]
    assert all(pool.activeThreadCount() == 0 for pool in pools)
    assert window.controller.results.rowCount() < 1500
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written into the image folder
