"""How the front ends word an engine error: the problem, then what the reader of that front end should do."""

from __future__ import annotations

from index.core.errors import BadQuestionError, EventBotError, Fix

# What each fix means for someone at the command line (the Telegram admin reads the same).
_CLI_FIX = {
    Fix.BUILD: "run `eventbot build` to build it",
    Fix.REBUILD: "run `eventbot build` to rebuild it",
    Fix.ADD_ARTICLES: "add articles (.txt, .md or .html) to it, or `eventbot add URL`",
    Fix.SETTING: "",  # the problem already names the setting and the value it wants
    Fix.ASK_AGAIN: "",
    Fix.JOURNAL_ASIDE: "move the file aside; the bot starts a new log when it next starts",
}


def explain(exc: EventBotError) -> str:
    """One line: what went wrong and how to fix it."""
    fix = _CLI_FIX.get(exc.fix) if exc.fix is not None else None
    return f"{exc.problem}; {fix}" if fix else exc.problem


def exit_code(exc: EventBotError) -> int:
    """2 for a usage problem (the question), 1 for an operator problem (settings, index, articles, model)."""
    return 2 if isinstance(exc, BadQuestionError) else 1
