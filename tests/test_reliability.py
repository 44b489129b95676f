"""Nothing a user or operator does makes the bot crash: bad input, damaged index, broken seeds."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from bot.console import respond
from index import loader, store
from index.builder import build
from index.embedder import Embedder
from index.service import QAService
from index.settings import Settings
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
    if code == 2:
        assert "usage: eventbot ask" in err and out == ""
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
