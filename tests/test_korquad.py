"""`eventbot korquad` writes KorQuAD 1.0's report and tuning sets from the shared dev part (a tiny stand-in here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from measure.evaluate import load_questions
from measure.squad2 import KORQUAD, KORQUAD_REPORT, KORQUAD_TUNE


def article(number: int) -> dict[str, object]:
    context = f"기사 {number}의 첫 문장이다. 행사는 서울에서 {number}일에 열렸다."
    return {
        "title": f"문서 {number}",
        "paragraphs": [
            {
                "context": context,
                "qas": [
                    {
                        "id": f"{number}-{q}",
                        "question": f"문서 {number}의 행사는 며칠에 열렸나? ({q})",
                        "answers": [{"text": f"{number}일", "answer_start": 0}],
                    }
                    for q in range(3)
                ],
            }
        ],
    }


def test_the_report_and_tuning_sets_are_disjoint_and_decline_other_articles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "training"
    data.mkdir()
    (data / KORQUAD).write_text(
        json.dumps({"version": "1", "data": [article(n) for n in range(20)]}, ensure_ascii=False), encoding="utf-8"
    )
    assert main(["korquad", "--data", str(data), "--output", str(tmp_path / "out")]) == 0
    assert "eventbot eval" in capsys.readouterr().out
    sets = {name: load_questions(tmp_path / "out" / name / "questions.jsonl") for name in ("report", "tune")}
    titles = {
        name: {p.read_text(encoding="utf-8").split("\n")[0] for p in (tmp_path / "out" / name / "docs").iterdir()}
        for name in sets
    }
    assert len(titles["report"]) == KORQUAD_REPORT and len(titles["tune"]) == KORQUAD_TUNE
    assert not titles["report"] & titles["tune"]
    assert "date 2018-01-01 문서 19" in titles["report"]  # the last articles of the file report
    for questions in sets.values():
        answerable = [q for q in questions if q.answers]
        foreign = [q for q in questions if not q.answers]
        assert len(answerable) == 3 * KORQUAD_REPORT and foreign
        asked_of = {q.question.split("의")[0] for q in answerable}
        # What it should decline is asked of articles in neither set.
        assert all(q.question.split("의")[0] not in asked_of for q in foreign)
        assert all(int(q.question.split()[1].rstrip("의")) < 20 - KORQUAD_REPORT - KORQUAD_TUNE for q in foreign)


def test_without_the_korquad_file_it_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["korquad", "--data", str(tmp_path), "--output", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert KORQUAD in err and "\n" not in err
