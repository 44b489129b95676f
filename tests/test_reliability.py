"""Nothing a user or operator does makes the bot crash: bad input, damaged index, broken seeds."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.console import respond
from index import store
from index.content import loader
from index.core.settings import Settings
from index.models.embedder import Embedder
from index.service import QAService
from index.store.builder import build
from tests.helpers import BAD_INPUTS, change_manifest


@pytest.fixture
def service(settings: Settings) -> QAService:
    return QAService.open(settings, lambda message: None)


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_console_replies_to_anything(service: QAService, text: str) -> None:
    reply = respond(service, text)
    assert reply is not None  # only /quit ends the console
    if text.strip() and any(ch.isprintable() and not ch.isspace() for ch in text):
        assert reply.strip(), "a visible input gets a visible reply"


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_ask_answers_declines_or_explains_usage(env: Settings, capsys: pytest.CaptureFixture[str], text: str) -> None:
    code = main(["ask", "--json", text])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if code == 2:  # a usage line for people, and still one JSON object for scripts
        assert "usage: eventbot ask" in err
        assert list(json.loads(out)) == ["error"]
    else:
        assert code == 0, err
        (row,) = [json.loads(line) for line in out.splitlines()]
        assert isinstance(row["answered"], bool) and len(row["answers"]) == 3


INDEX_FAULTS = {
    "missing folder": lambda f: shutil.rmtree(f),
    "garbage FAISS": lambda f: (f / "faiss.index").write_bytes(os.urandom(4096)),
    "truncated FAISS": lambda f: (f / "faiss.index").write_bytes((f / "faiss.index").read_bytes()[:-200]),
    "other model": lambda f: change_manifest(f, model="some/other-model"),
    "other dimension": lambda f: change_manifest(f, dimension=768),
    "counts differ": lambda f: (f / "sentences.json").write_text(json.dumps(json.loads((f / "sentences.json").read_text())[:-1])),
    "vectors of another shape": lambda f: np.save(f / "vectors.npy", np.zeros((21, 10), "float32")),
    "count as a string": lambda f: change_manifest(f, sentence_count="21"),
    "null sentence text": lambda f: _edit_rows(f, lambda row: [*row[:5], None]),
    "wrong-typed sentence field": lambda f: _edit_rows(f, lambda row: [row[0], str(row[1]), *row[2:]]),
    "unknown document id": lambda f: _edit_rows(f, lambda row: ["ghost", *row[1:]]),
    "BM25 id out of range": lambda f: np.save(
        f / "bm25_sentences" / "indices.csc.index.npy", np.load(f / "bm25_sentences" / "indices.csc.index.npy") + 10_000
    ),
    "paragraph number out of range": lambda f: np.savez(
        f / "paragraphs.npz", paragraph_of=np.full(21, 999, np.int64), vectors=np.load(f / "paragraphs.npz")["vectors"]
    ),
    "vectors header claims 10^11 rows": lambda f: (f / "vectors.npy").write_bytes(_huge_npy_header()),
    "CURRENT not UTF-8": lambda f: (f.parent.parent / "CURRENT").write_bytes(b"\xff\xfe\x00garbage"),
    "CURRENT is a folder": lambda f: ((f.parent.parent / "CURRENT").unlink(), (f.parent.parent / "CURRENT").mkdir()),
}


def _edit_rows(folder: Path, change: Callable[[list[object]], list[object]]) -> None:
    rows = json.loads((folder / "sentences.json").read_text())
    rows[3] = change(rows[3])
    (folder / "sentences.json").write_text(json.dumps(rows))


def _huge_npy_header() -> bytes:
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 384), }"
    header += " " * (118 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin-1") + b"\x00" * 64


@pytest.mark.parametrize("fault", list(INDEX_FAULTS))
@pytest.mark.parametrize("command", [["ask", "Where was K-Defense Day held?"], ["console"], ["sources"]])
def test_damaged_index_at_start_is_one_line_and_exit_1(
    env: Settings,
    capsys: pytest.CaptureFixture[str],
    fault: str,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["build"]) == 0
    INDEX_FAULTS[fault](store.current_build(env.index_dir))
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("Where was K-Defense Day held?\n"))
    code = main(command)
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("eventbot: ") and "eventbot build" in err
    assert "Traceback" not in err
    assert main(["build"]) == 0  # and the fix it names works
    capsys.readouterr()
    assert main(["ask", "Where was K-Defense Day held?"]) == 0


def test_unreadable_index_file_is_named(
    env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root in CI, where chmod cannot make a file unreadable; the OS's answer is simulated.
    assert main(["build"]) == 0
    real = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self.name == "sentences.json":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    capsys.readouterr()
    assert main(["ask", "Where was K-Defense Day held?"]) == 1
    assert "sentences.json is not readable (permissions)" in capsys.readouterr().err


def test_seed_faults_are_reported_and_the_build_finishes(
    settings: Settings, hashing: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = settings.seeds_dir
    (seeds / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (seeds / "latin1.txt").write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    (seeds / "empty.md").write_bytes(b"")
    with open(seeds / "huge.txt", "wb") as handle:  # 50 MB
        handle.write(b"A sentence about nothing in particular. " * 1_300_000)
    real_files = loader.article_files

    def with_a_vanished_file(folder: Path) -> list[Path]:
        return [*real_files(folder), folder / "deleted-during-build.txt"]

    monkeypatch.setattr(loader, "article_files", with_a_vanished_file)
    report = build(settings, lambda: hashing)
    warnings = "\n".join(report.plan.warnings)
    for name, reason in [
        ("binary.txt", "binary"),
        ("latin1.txt", "UTF-8"),
        ("empty.md", "empty"),
        ("huge.txt", "limit"),
        ("deleted-during-build.txt", "No such file"),
    ]:
        assert any(name in line and reason in line for line in report.plan.warnings), (name, warnings)
    assert report.plan.added == ("2025-07-08-k-defense-day",) and report.sentence_count == 21


def _process(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_a_binary_env_file_is_one_line(env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_bytes(b"\xff\xfe\x00TOP_K=\x00\x9c")
    assert main(["sources"]) == 1
    err = capsys.readouterr().err
    assert err == "eventbot: .env is not UTF-8 text: save it as UTF-8 (settings are NAME=value lines)\n"


def test_a_log_file_that_cannot_be_written_is_said_once(env: Settings, tmp_path: Path) -> None:
    done = _process(["build"], tmp_path, LOG_FILE="/dev/full", LOG_LEVEL="INFO")
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "Logging error" not in err and "Traceback" not in err
    assert err.count("cannot write the log file /dev/full") == 1


def test_ctrl_c_while_starting_is_one_line(env: Settings, tmp_path: Path) -> None:
    for delay in (0.15, 0.3, 0.5):
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "ask", "Where was K-Defense Day held?"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        if b"init_import_site" in err:
            continue  # the signal came while Python itself was starting, before any of this program ran
        assert b"Traceback" not in err, (delay, err)
        assert process.returncode in (0, 130, -signal.SIGINT) and (process.returncode == 0 or b"interrupted" in err)


@pytest.mark.parametrize("command", [["ask"], ["console"]])
def test_closed_standard_input_is_a_usage_line(env: Settings, tmp_path: Path, command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        preexec_fn=lambda: os.close(0),  # as `eventbot ask <&-` in a shell
    )
    err = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in err and err.startswith("eventbot: "), err


def test_an_output_that_cannot_show_korean_gets_replacement_marks(env: Settings, tmp_path: Path) -> None:
    (env.seeds_dir / "ko.txt").write_text(
        "date 2025-07-09 국방\n국방의 날 행사는 서울에서 열렸다. K-Defense Day was in Seoul.\n", encoding="utf-8"
    )
    done = _process(["ask", "국방의 날 행사는 어디에서 열렸나?"], tmp_path, PYTHONIOENCODING="ascii")
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr and done.stdout.strip()


def test_bench_output_under_a_file_is_refused_before_measuring(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    assert main(["bench", "--quick", "--output", str(tmp_path / "a-file" / "bench.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("eventbot: cannot write") and "--output" in err and err.count("\n") == 1


@pytest.mark.parametrize("command", [["ask", "Where did the owners meet on Monday in Busan?"], ["console"], ["sources"]])
def test_terminal_escapes_in_articles_never_reach_the_terminal(
    env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    (env.seeds_dir / "escapes.txt").write_text(
        "date 2025-07-09 Owners\x1b]0;owned\x07 meet\nThe owners met\x1b[2J in Busan \x1b[31mon Monday.\n", encoding="utf-8"
    )
    assert main(["build"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("Where did the owners meet on Monday in Busan?\n/sources\n"))
    assert main(command) == 0
    out = capsys.readouterr().out
    assert ("Busan" in out) if command[0] != "sources" else ("Owners" in out)
    assert "\x1b" not in out and "\x07" not in out
