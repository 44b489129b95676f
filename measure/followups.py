"""`eventbot eval` on a file of question pairs: follow-ups answered with and without the previous turn.

Each line is `{"first": str, "second": str, "answers": [str], "followup": bool}`; the second question is right
when the first sentence the bot ranks for it contains an answer. With the previous turn, the second question is
resolved as a chat would resolve it (`index.conversation.followup`); without, it is asked alone. A stand-alone second question
must not get worse.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from index.conversation.followup import Conversations
from index.core.errors import EventBotError
from index.service import QAService


@dataclass(frozen=True, slots=True)
class Pair:
    first: str
    second: str
    answers: tuple[str, ...]
    followup: bool


@dataclass(frozen=True, slots=True)
class PairReport:
    followups: int
    followups_right_with: int
    followups_right_without: int
    standalone: int
    standalone_right_with: int
    standalone_right_without: int
    standalone_worse: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def is_pair_file(path: Path) -> bool:
    try:
        first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()), "")
        return isinstance(row := json.loads(first), dict) and "first" in row and "second" in row
    except (OSError, ValueError):
        return False


def load_pairs(path: Path) -> list[Pair]:
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pairs.append(Pair(str(row["first"]), str(row["second"]), tuple(map(str, row["answers"])), bool(row["followup"])))
        except (ValueError, KeyError, TypeError):
            raise EventBotError(f"{path}:{number}: not a pair line {{first, second, answers, followup}}") from None
    return pairs


def evaluate_pairs(service: QAService, pairs: list[Pair], verbose: bool = False) -> PairReport:
    counts = {"fw": 0, "fo": 0, "sw": 0, "so": 0, "worse": 0}
    for number, pair in enumerate(pairs):
        chat = Conversations(seconds=3600.0)
        chat.remember(number, pair.first, service.answer(pair.first))
        resolved = chat.resolve(number, pair.second)
        with_turn = _right(service, resolved.question, pair.answers, resolved.prefer)
        alone = _right(service, pair.second, pair.answers)
        if pair.followup:
            counts["fw"] += with_turn
            counts["fo"] += alone
        else:
            counts["sw"] += with_turn
            counts["so"] += alone
            counts["worse"] += alone and not with_turn
        if verbose and not with_turn:
            print(f"MISS {pair.second!r} (after {pair.first!r}) searched as {resolved.question!r} in {resolved.prefer}")
    followups = sum(p.followup for p in pairs)
    return PairReport(followups, counts["fw"], counts["fo"], len(pairs) - followups, counts["sw"], counts["so"], counts["worse"])


def _right(service: QAService, question: str, answers: tuple[str, ...], prefer: str | None = None) -> bool:
    hits = service.answer(question, prefer=prefer).hits
    return bool(hits) and any(answer.lower() in hits[0].sentence.text.lower() for answer in answers)


def format_pairs(name: str, report: PairReport) -> str:
    r = report
    return "\n".join(
        [
            f"{name}: {r.followups} follow-ups, {r.standalone} stand-alone second questions",
            f"follow-ups right with the previous turn: {r.followups_right_with} of {r.followups}",
            f"follow-ups right without it:           {r.followups_right_without} of {r.followups}",
            f"stand-alone right with / without:      {r.standalone_right_with} / {r.standalone_right_without} of {r.standalone}"
            f" (worse with the turn: {r.standalone_worse})",
        ]
    )
