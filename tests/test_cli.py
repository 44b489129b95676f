"""The command line and the console, in process (with the model loaded once) and as a real process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.console import run_console
from index.core.settings import Settings
from index.service import QAService
from tests.helpers import CITATION, HYATT

ANSWER_KEYS = {"text", "score", "confidence", "doc_id", "title", "date", "source", "url", "paragraph", "sentence"}


def run(
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_builds_on_first_use_and_cites(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", "Where was K-Defense Day held?")
    assert code == 0
    assert "No index yet" in err
    lines = out.splitlines()
    assert HYATT in lines[0]
    assert lines[1] == CITATION


def test_ask_json_answers_a_file_of_questions_in_the_documented_shape(
    env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = (
        "Where was K-Defense Day held?\n\nWhat is the capital of France?\n"
        "What contract did South Korea sign to export K2 tanks to Poland?\n"
    )
    code, out, _ = run(capsys, "ask", "--json", "--top-k", "2", stdin=questions, monkeypatch=monkeypatch)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in rows] == [
        "Where was K-Defense Day held?",
        "What is the capital of France?",
        "What contract did South Korea sign to export K2 tanks to Poland?",
    ]
    for row in rows:
        assert set(row) == {"question", "answered", "closest", "answers"}
        assert row["closest"] is False or not row["answered"]
        assert len(row["answers"]) == 2
        for answer in row["answers"]:
            assert set(answer) == ANSWER_KEYS
            assert 0.0 <= answer["confidence"] <= 1.0
            assert (
                isinstance(answer["score"], float)
                and isinstance(answer["paragraph"], int)
                and isinstance(answer["sentence"], int)
            )
            assert answer["doc_id"] == "2025-07-08-k-defense-day" and answer["date"] == "2025-07-08"
        scores = [a["score"] for a in row["answers"]]
        assert scores == sorted(scores, reverse=True)
    assert rows[0]["answered"] and HYATT in rows[0]["answers"][0]["text"]
    assert not rows[1]["answered"]
    assert rows[2]["answered"] and "9 trillion won" in rows[2]["answers"][0]["text"]


def test_piped_console_answers_each_line_without_prompt_noise(settings: Settings) -> None:
    service = QAService.open(settings, lambda message: None)
    out = io.StringIO()
    code = run_console(
        service,
        io.StringIO("Where was K-Defense Day held?\n\n/sources\n/nonsense\nWhat is the capital of France?\n/quit\nNever read\n"),
        out,
    )
    assert code == 0
    text = out.getvalue()
    assert "question>" not in text and "Ask me about" not in text
    blocks = text.strip().split("\n\n")
    assert HYATT in blocks[0] and CITATION in blocks[0]
    assert "1 article:" in text and "(2025-07-08, 21 sentences)" in text
    assert "Unknown command /nonsense" in text
    assert "The articles do not answer that." in text
    assert "Never read" not in text


@pytest.mark.parametrize("argv", [["ask", ""], ["ask", "   "], ["ask", "\t\n"], ["ask", "\x00\x01"]])
def test_empty_question_is_a_usage_error(env: Settings, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "usage: eventbot ask" in err and "Traceback" not in err


def test_blank_standard_input_is_a_usage_error(
    env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "ask", stdin="\n  \n", monkeypatch=monkeypatch)
    assert code == 2 and "usage" in err


@pytest.mark.parametrize(
    "question",
    [
        "Where was K-Defense Day held? " * 3500,  # about 100,000 characters
        "Where was\x00 K-Defense\x1b[31m Day held?\x07",
        "국방의 날 행사는 어디에서 열렸나요?",
        "أين أقيم يوم الدفاع الكوري؟",
        "Where 是 K-Defense Day ключ held?",
        "?!?...",
        "x",
        "\ud800 broken surrogate",
    ],
)
def test_odd_questions_are_answered_or_declined_without_crashing(
    env: Settings, capsys: pytest.CaptureFixture[str], question: str
) -> None:
    code, out, err = run(capsys, "ask", "--json", question)
    assert code == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert isinstance(row["answered"], bool) and len(row["answers"]) == 3
    assert "Traceback" not in err


def test_long_question_is_cut_with_a_note(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", "Where was K-Defense Day held? " * 3500)
    assert code == 0
    assert "only its first" in out and HYATT in out


def test_invalid_setting_is_one_line_naming_it(
    env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOP_K", "abc")
    code, out, err = run(capsys, "ask", "hello")
    assert code == 1 and out == ""
    assert err.startswith("eventbot: invalid setting TOP_K") and err.count("\n") == 1


def test_changed_seeds_are_noticed_and_indexed(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build"]) == 0
    (env.seeds_dir / "poland.txt").write_text(
        "date 2025-07-20 K-2 tanks arrive\nThe first K-2 tanks arrived in the port of Gdynia.\n", encoding="utf-8"
    )
    capsys.readouterr()
    code, out, err = run(capsys, "ask", "Which port did the first K-2 tanks arrive in?")
    assert code == 0
    assert "articles changed" in err and "1 added" in err
    assert "Gdynia" in out.splitlines()[0]


def test_build_reports_changes_and_warnings(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    (env.seeds_dir / "bad.txt").write_bytes(b"\xff\xfe\x00binary")
    code, out, err = run(capsys, "build")
    assert code == 0
    assert "1 added" in out and "21 sentences" in out
    assert "bad.txt" in err and "binary" in err
    code, out, _ = run(capsys, "build")
    assert code == 0 and "up to date" in out


def test_real_process_run_without_token_answers_in_the_console(tmp_path: Path, seeds: Path) -> None:
    """What `make run` does on a fresh clone, with the question piped in."""
    env = {**os.environ, "SEEDS_DIR": str(seeds), "INDEX_DIR": str(tmp_path / "index"), "LOG_FILE": ""}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input="Where was K-Defense Day held?\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "TELEGRAM_BOT_TOKEN is not set" in proc.stderr
    lines = proc.stdout.splitlines()
    assert HYATT in lines[0] and lines[1] == CITATION
    assert "Traceback" not in proc.stderr


def test_eval_reports_calibration_and_draws_the_reliability_diagram(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"question": "Where was K-Defense Day held?", "answers": ["Grand Hyatt"]},
        {"question": "Which hotel hosted the event?", "answers": ["Grand Hyatt"]},
        {"question": "What contract did South Korea sign to export K2 tanks to Poland?", "answers": ["9 trillion won"]},
        {"question": "What is the capital of France?", "answers": []},
        {"question": "Who painted the Mona Lisa?", "answers": []},
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    picture = tmp_path / "docs" / "reliability.png"
    assert main(["eval", str(path), "--json", "--plot", str(picture)]) == 0
    report = json.loads(capsys.readouterr().out)
    buckets = report["calibration"]
    assert sum(b["count"] for b in buckets) == 5
    assert all(b["low"] <= b["mean_confidence"] <= b["high"] and 0 <= b["share_correct"] <= 1 for b in buckets)
    assert [b["low"] for b in buckets] == sorted(b["low"] for b in buckets)
    assert picture.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("since", ["nan", "inf", "-inf", "1e308", "-5", "garbage", "NaN", "2025-13-45", "99999"])
def test_report_since_must_be_days_or_a_date(env: Settings, capsys: pytest.CaptureFixture[str], since: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["report", "--since", since])
    out, err = capsys.readouterr()
    assert stopped.value.code == 2 and out == ""
    assert "usage: eventbot report" in err and "--since" in err
    assert "unexpected error" not in err and "Traceback" not in err


def test_report_since_days_and_dates_still_work(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from index.conversation.journal import Journal
    from index.core.records import Answer

    journal = Journal(env.journal_path)
    journal.record(Answer("What is the capital of France?", False, ()), chat=1, asker=2, shown=0)
    journal.close()
    for since in ("0", "30", "3650", "2020-01-01"):
        assert main(["report", "--json", "--since", since]) == 0
        assert json.loads(capsys.readouterr().out)["questions"] == (0 if since == "0" else 1)


def _json_lines(out: str) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows, "nothing on standard output"
    return rows


@pytest.mark.parametrize(
    ("argv", "stdin", "code"),
    [
        (["ask", "--json", ""], None, 2),  # empty question
        (["ask", "--json", "   "], None, 2),
        (["ask", "--json"], "\n \n", 2),  # nothing on standard input
        (["ask", "--json", "--top-k", "0", "hello"], None, 2),  # a usage error argparse finds
        (["ask", "--json", "--top-k", "many", "hello"], None, 2),
    ],
)
def test_ask_json_prints_json_on_usage_errors(
    env: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    stdin: str | None,
    code: int,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
    try:
        got = main(argv)
    except SystemExit as stopped:
        got = int(stopped.code or 0)
    out, err = capsys.readouterr()
    assert got == code
    (row,) = _json_lines(out)
    assert isinstance(row["error"], str) and row["error"] and "Traceback" not in err


def test_ask_json_prints_json_when_the_index_cannot_be_made_or_a_setting_is_wrong(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDS_DIR", str(tmp_path / "no-such-folder"))  # no index, and nothing to build it from
    assert main(["ask", "--json", "Where was K-Defense Day held?"]) == 1
    out, err = capsys.readouterr()
    (row,) = _json_lines(out)
    assert "no-such-folder" in str(row["error"]) and err.count("\n") == 1
    monkeypatch.setenv("TOP_K", "abc")
    assert main(["ask", "--json", "Where was K-Defense Day held?"]) == 1
    (row,) = _json_lines(capsys.readouterr().out)
    assert str(row["error"]).startswith("invalid setting TOP_K")
