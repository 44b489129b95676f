"""`eventbot bench` runs end to end (figures are measured with `make bench`, never asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from index.core.settings import Settings


@pytest.mark.model  # the floor and the naive start-up load the packaged model, whatever the backend
def test_bench_smoke(env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output, picture = tmp_path / "bench.json", tmp_path / "bench.png"
    assert main(["bench", "--quick", "--json", "--output", str(output), "--plot", str(picture)]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads(output.read_text())
    assert printed["answer_ms"] == written["answer_ms"]
    for key in (
        "floor_ms",
        "answer_ms",
        "concurrent_batched",
        "concurrent_unbatched",
        "startup_s",
        "naive_startup_s",
        "serving_rss_mb",
        "korean_answer_ms",
        "korean_startup_s",
        "korean_serving_rss_mb",
        "build",
    ):
        assert key in written
    assert written["build"]["one_changed_embedded"] == 22  # the changed article only
    # Build throughput comes from real builds: the English side, then the English sentences' multilingual vectors.
    build = written["build"]
    assert build["sentences_per_s"] == pytest.approx(build["sentences"] / build["full_s"])
    assert build["multilingual_sentences"] == build["sentences"] == 21  # the seed is English: all pending, all made
    assert written["build_english"]["sentences"] > 800 and written["build_english"]["sentences_per_s"] > 0
    assert written["answer_ms"]["p50"] > 0 and written["serving_rss_mb"] > 0
    assert written["korean_answer_ms"]["p50"] > 0 and written["korean_serving_rss_mb"] > 0
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_bench_scale_smoke(env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--scale", "2000", "--quick", "--output", str(tmp_path / "s.json")]) == 0
    table = capsys.readouterr().out
    assert "| 2,000 | flat |" in table
    result = json.loads((tmp_path / "s.json").read_text())
    assert result["recall_at_10"] == 1.0  # flat search is exact
    assert result["end_to_end_ms"]["p50"] > 0
