"""The index folder under pressure: concurrent builds, folders that hold other things, full or read-only disks."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.cli import main
from index import store
from index.core.errors import IndexDamagedError, IndexWriteError
from index.core.settings import Settings
from index.models.embedder import Embedder, model_identity
from index.store.builder import build
from tests.helpers import EXTRA, HYATT

ROUNDS = 3
PROCESSES = 4


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *command], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.load  # a stress test: many processes at once, 10 s each (make test-load)
@pytest.mark.parametrize("command", [["build"], ["ask", "Where was K-Defense Day held?"]], ids=["build", "ask"])
def test_many_processes_building_at_once_never_lose_the_index(env: Settings, tmp_path: Path, command: list[str]) -> None:
    assert main(["build"]) == 0
    environment = dict(os.environ)
    article = env.seeds_dir / "2025-07-08-k-defense-day.txt"
    original = article.read_text(encoding="utf-8")
    for round_number in range(ROUNDS):
        # An edit makes every process rebuild (ask builds before answering); they all start together.
        article.write_text(original + f"\nA paragraph added in round {round_number}.\n", encoding="utf-8")
        with ThreadPoolExecutor(PROCESSES) as pool:
            done = list(pool.map(lambda _: _run(command, environment, tmp_path), range(PROCESSES)))
        for result in done:
            assert result.returncode == 0, result.stderr
            assert "Traceback" not in result.stderr
            if command[0] == "ask":
                assert HYATT in result.stdout
        data = store.load_index(env.index_dir, model=model_identity(env))
        assert any(f"round {round_number}" in s.text for s in data.sentences)
        assert _run(["ask", "Where was K-Defense Day held?"], environment, tmp_path).returncode == 0


def test_a_build_never_deletes_the_build_it_replaced_nor_foreign_folders(settings: Settings, hashing: Embedder) -> None:
    build(settings, lambda: hashing)
    first = store.current_build(settings.index_dir)
    foreign = settings.index_dir / "builds" / "my-notes"
    foreign.mkdir()
    (settings.seeds_dir / "poland.txt").write_text(EXTRA, encoding="utf-8")
    build(settings, lambda: hashing)
    assert first is not None and first.is_dir()  # a reader that read CURRENT just before the switch can still load it
    assert foreign.is_dir()


@pytest.mark.parametrize("leftover", ["builds/keep.txt", "notes.txt"])
def test_index_dir_that_holds_other_things_is_refused_and_left_alone(
    settings: Settings, hashing: Embedder, leftover: str
) -> None:
    path = settings.index_dir / leftover
    path.parent.mkdir(parents=True)
    path.write_text("precious", encoding="utf-8")
    with pytest.raises(IndexWriteError, match="already holds other files"):
        build(settings, lambda: hashing)
    assert path.read_text(encoding="utf-8") == "precious"


@pytest.mark.parametrize("name", ["INDEX_DIR", "SEEDS_DIR", "MODEL_CACHE_DIR"])
def test_an_empty_path_setting_is_refused_in_one_line(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (Path.cwd() / "builds").mkdir()
    (Path.cwd() / "builds" / "mine.txt").write_text("mine", encoding="utf-8")
    monkeypatch.setenv(name, "")
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"eventbot: invalid setting {name}") and err.count("\n") == 1
    assert (Path.cwd() / "builds" / "mine.txt").exists()


def test_full_disk_leaves_no_partial_build_and_the_old_index_serving(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build"]) == 0
    (env.seeds_dir / "poland.txt").write_text(EXTRA, encoding="utf-8")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.dense.faiss, "write_index", full)
    capsys.readouterr()
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert "no space left in INDEX_DIR" in err and err.strip().count("\n") <= 1 + err.count("warning")
    assert not [p for p in (env.index_dir / "builds").iterdir() if p.name.endswith(".partial")]
    # ask still answers, from the previous index, and says it could not update it
    code = main(["ask", "Where was K-Defense Day held?"])
    out, err = capsys.readouterr()
    assert code == 0 and HYATT in out
    assert "could not update the index" in err and "previous" in err


def test_read_only_index_dir_answers_from_the_old_index(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build"]) == 0
    (env.seeds_dir / "poland.txt").write_text(EXTRA, encoding="utf-8")

    def read_only(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    # Tests run as root in CI, where chmod cannot make a folder read-only; the OS's answer is simulated.
    monkeypatch.setattr(store, "FileLock", lambda path: type("L", (), {"acquire": read_only, "release": lambda self: None})())
    capsys.readouterr()
    assert main(["ask", "Where was K-Defense Day held?"]) == 0
    out, err = capsys.readouterr()
    assert HYATT in out and "could not update the index" in err and "Permission denied" in err
    assert main(["build"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("eventbot: cannot write the index in INDEX_DIR") and "Traceback" not in last


@pytest.mark.parametrize("where", ["INDEX_DIR", "MODEL_CACHE_DIR"])
def test_a_path_under_a_file_is_one_line(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    monkeypatch.setenv(where, str(tmp_path / "a-file" / "below"))
    if where == "MODEL_CACHE_DIR":
        monkeypatch.setenv("EMBEDDING_BACKEND", "onnx")
    code = main(["build"])
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert code == 1 and last.startswith("eventbot: ") and where in last and "unexpected" not in err


def test_reload_refuses_an_index_that_loads_but_cannot_answer(
    settings: Settings, hashing: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.ranking import ranker
    from index.service import QAService

    service = QAService.open(settings, lambda message: None, embedder=lambda _: hashing)
    build(settings, lambda: hashing)

    def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("a damaged index that passed every check")

    with monkeypatch.context() as patched, pytest.raises(IndexDamagedError, match="cannot answer"):
        patched.setattr(ranker, "expected_type", broken)
        service.reload()
    assert HYATT in service.answer("Where was K-Defense Day held?").presented[0].sentence.text
