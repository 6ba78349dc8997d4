"""Closing the window in the middle of a folder run shuts the workers down cleanly."""

from __future__ import annotations

from app_helpers import copied_folder, drop, wait_rows


def test_close_during_a_folder_run_stops_every_worker(qtbot, window, tmp_path):
    folder = copied_folder(tmp_path, "Coat", 1500)
    before = sorted(p.name for p in folder.iterdir())
    drop(window, [tmp_path / "many"])
    wait_rows(qtbot, window, 1)
    window.close()
    pools = [window.controller.compute.pool, window.controller.io.pool]
    assert all(pool.activeThreadCount() == 0 for pool in pools)
    assert window.controller.results.images < 1500
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written into the image folder
