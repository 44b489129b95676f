"""`eventbot`: a thin command line over the `index` library; domain errors become one line and an exit code."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn, TypeVar

from bot.errors import exit_code, explain
from bot.format import SEPARATOR, answer_json, answer_text, sources_text, terminal_safe
from bot.logs import setup_logging
from bot.settings import LogSettings, TelegramSettings
from index import service, store
from index.conversation import journal
from index.core.errors import BadQuestionError, EventBotError, Fix, JournalError
from index.core.language import ENGLISH, KOREAN, LANGUAGES
from index.core.settings import Settings, load, load_settings
from index.models.embedder import load_embedder
from index.service import QAService
from index.store.builder import complete_multilingual, update_index

log = logging.getLogger("eventbot")

# Questions read from standard input are embedded this many at a time.
STDIN_BATCH = 64
USAGE = 'usage: eventbot ask "QUESTION"  (or one question per line on standard input)'


@dataclass(frozen=True, slots=True)
class Config:
    """Every settings class, read once at start."""

    engine: Settings
    log: LogSettings
    telegram: TelegramSettings

    @staticmethod
    def load() -> Config:
        return Config(load_settings(), load(LogSettings), load(TelegramSettings))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command and return its exit code."""
    for stream in (sys.stdout, sys.stderr):
        # A terminal or pipe that cannot show every character gets a replacement mark, not a crash.
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    argv = list(sys.argv[1:] if argv is None else argv)
    # With --json, standard output stays JSON whatever happens: a failure is {"error": "..."} there too.
    _Parser.json_errors = "--json" in argv[: argv.index("--") if "--" in argv else len(argv)]
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    as_json = bool(getattr(args, "json", False))
    try:
        config = Config.load()
    except EventBotError as exc:
        return _fail(explain(exc), exit_code(exc), as_json)
    setup_logging(config.log, config.telegram.secrets())
    try:
        return int(args.handler(config, args))
    except BadQuestionError as exc:
        return _fail(explain(exc), exit_code(exc), as_json, USAGE)
    except EventBotError as exc:
        log.debug("%s", exc, exc_info=True)
        return _fail(explain(exc), exit_code(exc), as_json)
    except KeyboardInterrupt:
        return _fail("interrupted", 130, as_json)
    except BrokenPipeError:
        return 0
    except Exception:
        log.exception("unexpected error")
        where = f"details in {config.log.log_file}" if config.log.log_file else "set LOG_FILE for details"
        return _fail(f"unexpected error ({where})", 1, as_json)


def _fail(problem: str, code: int, as_json: bool, usage: str | None = None) -> int:
    """Say what went wrong on standard error (and as {"error": ...} on standard output with --json); the exit code."""
    print(f"eventbot: {problem}" + (f"\n{usage}" if usage else ""), file=sys.stderr)
    if as_json:
        _print_error(problem)
    return code


def _print_error(problem: str) -> None:
    with contextlib.suppress(BrokenPipeError):
        print(json.dumps({"error": problem}, ensure_ascii=False), flush=True)


class _Parser(argparse.ArgumentParser):
    """argparse, but with --json a usage error is also one JSON object on standard output."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if _Parser.json_errors:
            _print_error(f"{self.prog}: {message}")
        super().error(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="eventbot", description="Answers questions about news articles with quoted, cited sentences.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.set_defaults(command=None)

    p = sub.add_parser("build", help="build or update the index from SEEDS_DIR")
    p.set_defaults(handler=cmd_build)

    p = sub.add_parser("add", help="fetch a web page, save it in SEEDS_DIR as an article, and update the index")
    p.add_argument("url", help="the article's address (http:// or https://)")
    p.set_defaults(handler=cmd_add)

    p = sub.add_parser("report", help="what readers asked that the articles do not answer, answers marked 👎, articles cited")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--since", default=_since("30"), type=_since, help="a number of days, or a date YYYY-MM-DD (default: 30 days)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("forget", help="delete everything one Telegram user asked or pressed from the question log")
    p.add_argument("user_id", type=int, help="the user's numeric Telegram id")
    p.set_defaults(handler=cmd_forget)

    p = sub.add_parser("ask", help="answer questions (arguments, or one per line on standard input)")
    p.add_argument("question", nargs="*", help="the question; omit to read questions from standard input")
    p.add_argument("--top-k", type=_positive, default=None, metavar="N", help="how many sentences to return (default TOP_K)")
    p.add_argument("--json", action="store_true", help="one JSON object per question, one per line")
    p.set_defaults(handler=cmd_ask)

    p = sub.add_parser("console", help="an interactive prompt (answers each line when piped)")
    p.set_defaults(handler=cmd_console)

    p = sub.add_parser("sources", help="list the articles in the index")
    p.set_defaults(handler=cmd_sources)

    p = sub.add_parser("eval", help="measure answer quality on a JSONL question file, beside BM25 and dense baselines")
    p.add_argument("file", type=Path, help='JSONL lines {"question": str, "answers": [str], "context": str (optional)}')
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--verbose", action="store_true", help="list every miss with what was returned")
    p.add_argument("--seeds", type=Path, default=None, metavar="DIR", help="build a temporary index from DIR instead")
    p.add_argument("--plot", type=Path, default=None, metavar="FILE.png", help="draw the reliability diagram")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("calibrate", help="fit the answerability model on the tuning questions (and your own)")
    p.add_argument(
        "--questions",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.jsonl",
        help="your own labelled questions (eval format) to fit on too; give --seeds for each",
    )
    p.add_argument(
        "--seeds", type=Path, action="append", default=[], metavar="DIR", help="the articles those questions are about"
    )
    p.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="FILE.json",
        help="where the model is written (default: the shipped index/ranking/answerability.json)",
    )
    p.add_argument(
        "--training-data",
        type=Path,
        default=None,
        metavar="DIR",
        help="the reader's training folder: fit on SQuAD 2.0 questions it held out too (how the shipped model was fitted)",
    )
    p.add_argument(
        "--language",
        choices=LANGUAGES,
        default=None,
        help="refit only the models of questions in this language (the others stay as they are)",
    )
    p.set_defaults(handler=cmd_calibrate)

    p = sub.add_parser(
        "train-reader", help="train the reader model on public QA data (torch, 2 cores: about 35 minutes; --language ko about 60)"
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="DIR",
        help="the folder of squad2-dev-part.json and trecqa-*.jsonl (ko: korquad1-dev-part.json too)",
    )
    p.add_argument(
        "--output", type=Path, default=None, metavar="DIR", help="where the model goes (default: the shipped index/models/reader)"
    )
    p.add_argument("--epochs", type=float, default=1.0, help="passes over the training pairs (default 1)")
    p.add_argument("--seed", type=int, default=13, help="the random seed (default 13)")
    p.add_argument("--limit", type=_positive_count, default=None, metavar="N", help="train on at most N pairs (a smoke test)")
    p.add_argument("--serve", choices=("int8", "fp32"), default="int8", help="which export ships (default int8)")
    p.add_argument(
        "--start", type=Path, default=None, metavar="DIR", help="start from a model saved with --keep (a second stage)"
    )
    p.add_argument("--keep", type=Path, default=None, metavar="DIR", help="also save the trained torch model in DIR")
    p.add_argument(
        "--focus", default=None, metavar="SOURCES",
        help="train on every pair of these comma-separated sources "
        "(squad, squad1, squad2-train, trecqa, news, news-judged, news-missed) ...",
    )  # fmt: skip
    p.add_argument(
        "--others", type=float, default=1.0, metavar="SHARE", help="... and this share of the others' pairs (default 1)"
    )
    p.add_argument(
        "--language",
        choices=LANGUAGES,
        default=ENGLISH,
        help="en: the English reader (MiniLM); ko: the Korean one (e5-small, KorQuAD; default output index/models/reader-ko)",
    )
    p.add_argument(
        "--max-tokens", type=_token_count, default=None, metavar="N", help="longest pair read, 32 to 512 (default 160)"
    )
    p.set_defaults(handler=cmd_train_reader)

    p = sub.add_parser("squad2", help="write SQuAD 2.0's questions over the five articles the reader never saw, for eval")
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="the folder of squad2-dev-part.json")
    p.add_argument("--output", type=Path, required=True, metavar="DIR", help="where docs/ and report.jsonl go")
    p.set_defaults(handler=cmd_squad2)

    p = sub.add_parser("korquad", help="write KorQuAD 1.0 report and tuning sets (five articles each), for eval")
    p.add_argument("--data", type=Path, required=True, metavar="DIR", help="the folder of korquad1-dev-part.json")
    p.add_argument("--output", type=Path, required=True, metavar="DIR", help="where report/ and tune/ are written")
    p.set_defaults(handler=cmd_korquad)

    p = sub.add_parser("bench", help="measure latency, throughput, start-up, build time and memory")
    p.add_argument("--corpus", type=Path, default=None, metavar="DIR", help="articles to measure with (default SEEDS_DIR)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    p.add_argument("--output", type=Path, default=Path(".eventbot/bench.json"), metavar="FILE", help="where the JSON is written")
    p.add_argument("--plot", type=Path, default=None, metavar="FILE.png", help="draw latency distributions and the build curve")
    p.add_argument("--scale", type=_positive_count, default=None, metavar="N", help="synthetic mode: N generated sentences")
    p.add_argument("--quick", action="store_true", help="fewer rounds (a smoke test, not a measurement)")
    p.add_argument("--journal", action="store_true", help="the question log: SQLite, and PostgreSQL when JOURNAL_URL is set")
    p.set_defaults(handler=cmd_bench)

    p = sub.add_parser("run", help="the main job: the Telegram bot when TELEGRAM_BOT_TOKEN is set, else the console")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("telegram", help="run the Telegram bot")
    p.set_defaults(handler=cmd_telegram)
    return parser


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` ("50_000" and "50,000" read as 50000)."""

    def parse(value: str) -> int:
        try:
            number = int(value.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:,} and {high:,}")
        return number

    return parse


_positive = _whole_number(1, 100)
_token_count = _whole_number(32, 512)  # the encoders read at most 512 tokens
_positive_count = _whole_number(100, 50_000_000)


def _notify(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_build(config: Config, args: argparse.Namespace) -> int:
    """Build or update the index (repairing a damaged one) and say what changed."""
    settings = config.engine
    progress = sys.stderr.isatty()
    report = update_index(settings, lambda: load_embedder(settings), _notify, repair=True, progress=progress, multilingual=False)
    assert report is not None  # a repairing build always reports
    print(report.summary())
    # Then the multilingual vectors of English sentences (for Korean questions about them): most of a build's time.
    if pending := store.pending_multilingual(settings.index_dir):
        _notify(f"Embedding {pending} sentences for Korean questions (multilingual model).")
        started = time.perf_counter()
        made = complete_multilingual(settings, progress=progress)
        print(f"Multilingual vectors for {made} sentences in {time.perf_counter() - started:.1f} s.")
    return 0


def cmd_add(config: Config, args: argparse.Namespace) -> int:
    """Fetch a page into SEEDS_DIR, update the index, and confirm with the article's title, date and size."""
    from index.service.adding import add_article

    saved, info = add_article(config.engine, args.url, lambda: load_embedder(config.engine), _notify)
    done = "Updated" if saved.updated else "Added"
    print(f"{done}: {info.title} ({info.date or 'undated'}, {info.sentence_count} sentences) as {saved.path}")
    return 0


def cmd_report(config: Config, args: argparse.Namespace) -> int:
    """The editors' report from the question log."""
    import time

    from bot.format import report_text

    settings = config.engine
    if not settings.question_log:
        raise EventBotError("the question log is off (QUESTION_LOG=false): there is nothing to report", fix=Fix.SETTING)
    since = float(args.since)
    if settings.journal_url is None and not settings.journal_path.is_file():
        raise EventBotError(f"no question log yet at {settings.journal_path}: the bot records questions as it answers them")
    report = _with_journal(settings, lambda opened: opened.report(since))
    if args.json:
        print(
            json.dumps(
                {
                    "since": time.strftime("%Y-%m-%d", time.localtime(since)),
                    "questions": report.questions,
                    "unanswered": [{"question": q, "count": n} for q, n in report.unanswered],
                    "disliked": [{"question": q, "title": t, "paragraph": p, "count": n} for q, t, p, n in report.disliked],
                    "articles": [{"title": t, "answers": n} for t, n in report.articles],
                },
                ensure_ascii=False,
            )
        )
    else:
        print(report_text(report))
    return 0


# `--since` goes back at most this many days (the longest QUESTION_LOG_DAYS).
MAX_SINCE_DAYS = 3650


def _since(value: str) -> float:
    """`--since`: a number of days back (0 to MAX_SINCE_DAYS), or a date YYYY-MM-DD; the moment as a timestamp."""
    import math
    import time

    try:
        days = float(value)
    except ValueError:
        try:
            return time.mktime(time.strptime(value, "%Y-%m-%d"))
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"{value!r}: give a number of days or a date YYYY-MM-DD") from None
    if not (math.isfinite(days) and 0 <= days <= MAX_SINCE_DAYS):
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of days from 0 to {MAX_SINCE_DAYS}, or a date YYYY-MM-DD")
    return time.time() - days * 86_400.0


T = TypeVar("T")
# The command line may wait this long for a running bot to let go of the question log (a bot's answer never waits).
CLI_BUSY_SECONDS = 10.0


def _with_journal(settings: Settings, use: Callable[[journal.QuestionLog], T]) -> T:
    """Open the question log (PostgreSQL when JOURNAL_URL is set), use it, close it; a damaged or unusable log is
    one line, not a traceback (an unreachable PostgreSQL: the exit code of a setting fault)."""
    opened: journal.QuestionLog
    if settings.journal_url is not None:
        try:
            opened = journal.open_log(settings)
        except JournalError as exc:
            raise JournalError(exc.problem, fix=Fix.SETTING) from None
    else:
        opened = journal.open_journal(
            settings.journal_path, retention_days=settings.question_log_days, busy_seconds=CLI_BUSY_SECONDS
        )
    try:
        return use(opened)
    except journal.FAILURES as exc:
        raise journal.problem(opened.path, exc) from None
    finally:
        opened.close()


def cmd_forget(config: Config, args: argparse.Namespace) -> int:
    """A reader's right to be forgotten: their questions and feedback deleted from the question log, and from the disk."""
    settings = config.engine
    exists = settings.journal_url is not None or settings.journal_path.is_file()
    removed = _with_journal(settings, lambda opened: opened.forget(args.user_id)) if exists else 0
    print(f"Deleted {removed} question{'s' if removed != 1 else ''} of that user (and their feedback).")
    return 0


def cmd_ask(config: Config, args: argparse.Namespace) -> int:
    """Answer the question given, or every line of standard input."""
    if args.question:
        question = " ".join(args.question)
        if not question.strip():
            raise BadQuestionError("the question is empty")
        batches: Iterator[list[str]] = iter([[question]])
    else:
        if sys.stdin is None or sys.stdin.closed or sys.stdin.isatty():
            raise BadQuestionError("no question given")
        batches = _stdin_batches()
    qa = QAService.open(config.engine, _notify)
    answered_any = False
    for batch in batches:
        for answer in qa.answer_many(batch, args.top_k):
            answered_any = True
            if args.json:
                print(json.dumps(answer_json(answer), ensure_ascii=False), flush=True)
            elif args.question:
                print(answer_text(answer) + "\n", flush=True)
            else:  # many questions: each answer under its question, a line between them
                print(f"{terminal_safe(answer.question)}\n\n{answer_text(answer)}\n{SEPARATOR}", flush=True)
    if not answered_any:
        raise BadQuestionError("no question on standard input")
    return 0


def _stdin_batches() -> Iterator[list[str]]:
    batch: list[str] = []
    for line in sys.stdin:
        if line.strip():
            batch.append(line.rstrip("\n"))
        if len(batch) == STDIN_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def cmd_console(config: Config, args: argparse.Namespace) -> int:
    """Interactive questions and answers."""
    from bot.console import run_console

    if sys.stdin is None or sys.stdin.closed:
        raise BadQuestionError("standard input is closed: run the console in a terminal or pipe questions to it")
    return run_console(
        QAService.open(config.engine, _notify, complete=not config.engine.watch),
        history=config.engine.index_dir.parent / "console_history",
    )


def cmd_sources(config: Config, args: argparse.Namespace) -> int:
    """List what the bot knows."""
    print(sources_text(service.sources(config.engine)))
    return 0


def cmd_eval(config: Config, args: argparse.Namespace) -> int:
    """Evaluate the current settings and index (or a temporary index of --seeds) on a question file."""
    from measure import followups
    from measure.evaluate import evaluate, format_report, load_questions, plot_calibration

    settings = config.engine
    pairs = followups.load_pairs(args.file) if followups.is_pair_file(args.file) else None
    questions = load_questions(args.file) if pairs is None else []
    if args.plot is not None:
        _writable(args.plot, "--plot")
    with tempfile.TemporaryDirectory(prefix="eventbot-eval-") as scratch:
        if args.seeds is not None:
            settings = settings.model_copy(update={"seeds_dir": args.seeds, "index_dir": Path(scratch) / "index"})
        qa = QAService.open(settings, _notify)
        if pairs is not None:  # question pairs: follow-ups with and without the previous turn
            pair_report = followups.evaluate_pairs(qa, pairs, verbose=args.verbose)
            shown = json.dumps({"file": str(args.file), **pair_report.as_dict()})
            print(shown if args.json else followups.format_pairs(str(args.file), pair_report))
            return 0
        report = evaluate(qa, questions, verbose=args.verbose)
    if args.plot is not None:
        plot_calibration(report, args.plot, str(args.file))
    if args.json:
        print(json.dumps({"file": str(args.file), **report.as_dict()}))
    else:
        print(format_report(str(args.file), report))
    return 0


def cmd_calibrate(config: Config, args: argparse.Namespace) -> int:
    """Fit the answerability model; print its threshold and the tuning figures."""
    from index.ranking import answerability
    from measure.calibrate import calibrate

    if len(args.questions) != len(args.seeds):
        raise EventBotError("give one --seeds DIR for each --questions FILE")
    for questions in args.questions:
        if not questions.is_file():
            raise EventBotError(f"{questions}: no such questions file")
    output = args.output or answerability.SHIPPED
    _writable(output)
    if args.training_data is not None and not (args.training_data / "squad2-dev-part.json").is_file():
        raise EventBotError(f"{args.training_data}: no squad2-dev-part.json there")
    extra = list(zip(args.questions, args.seeds, strict=True))
    models = calibrate(config.engine, output, extra, _notify, training_data=args.training_data, language=args.language)
    summary = {
        language: {"written": str(answerability.path_for(output, language)), "threshold": m["threshold"], "tuning": m["tuning"]}
        for language, m in models.items()
    }
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0


def cmd_train_reader(config: Config, args: argparse.Namespace) -> int:
    """Train the reader and write it with its manifest; print the manifest's figures."""
    from index.models import reader
    from measure.train_reader import Options, train

    if not args.data.is_dir():
        raise EventBotError(
            f"{args.data}: no such folder (it should hold squad2-dev-part.json and trecqa-*.jsonl; "
            "for --language ko korquad1-dev-part.json too)"
        )
    output = args.output or (reader.SHIPPED_KOREAN if args.language == KOREAN else reader.SHIPPED)
    options = Options(args.data, output, epochs=args.epochs, seed=args.seed, limit=args.limit, serve=args.serve)
    options = replace(
        options, language=args.language, max_tokens=args.max_tokens or options.max_tokens, start=args.start, keep=args.keep,
        focus=frozenset(args.focus.split(",")) if args.focus else None, others=args.others,
    )  # fmt: skip
    if args.start is not None and not (args.start / "config.json").is_file():
        raise EventBotError(f"--start {args.start}: no model saved there (train with --keep DIR first)")
    try:
        manifest = train(options, _notify)
    except FileNotFoundError as exc:
        raise EventBotError(str(exc)) from None
    print(json.dumps({"written": str(output), "minutes": manifest["minutes"], "figures": manifest["figures"]}, indent=1))
    return 0


def cmd_squad2(config: Config, args: argparse.Namespace) -> int:
    """Write the SQuAD 2.0 report set (measure/squad2.py) and say how to evaluate it."""
    from measure.squad2 import write_report_set

    if not (args.data / "squad2-dev-part.json").is_file():
        raise EventBotError(f"{args.data}: no squad2-dev-part.json there")
    _writable(args.output / "report.jsonl", "--output")
    answerable, unanswerable = write_report_set(args.data, args.output)
    print(f"{answerable} answerable and {unanswerable} unanswerable questions in {args.output / 'report.jsonl'}")
    print(f"eventbot eval {args.output / 'report.jsonl'} --seeds {args.output / 'docs'}")
    return 0


def cmd_korquad(config: Config, args: argparse.Namespace) -> int:
    """Write the KorQuAD 1.0 report and tuning sets (measure/squad2.py) and say how to evaluate them."""
    from measure.squad2 import KORQUAD, write_korquad_sets

    if not (args.data / KORQUAD).is_file():
        raise EventBotError(f"{args.data}: no {KORQUAD} there")
    _writable(args.output / "report" / "questions.jsonl", "--output")
    for name, (answerable, foreign) in write_korquad_sets(args.data, args.output).items():
        questions = args.output / name / "questions.jsonl"
        print(f"{name}: {answerable} answerable and {foreign} other articles' questions in {questions}")
        print(f"eventbot eval {questions} --seeds {args.output / name / 'docs'}")
    return 0


def cmd_bench(config: Config, args: argparse.Namespace) -> int:
    """Run the benchmark; print a table (or JSON), write JSON, optionally draw the picture."""
    from measure import bench

    settings = config.engine
    _writable(args.output)  # before minutes of measuring, not after
    if args.journal:
        results = bench.run_journal(settings, quick=args.quick)
        args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")
        print(json.dumps(results) if args.json else bench.journal_table(results))
        return 0
    if args.scale is not None:
        results = bench.run_scale(settings, args.scale, quick=args.quick)
    else:
        corpus = args.corpus or settings.seeds_dir
        if not corpus.is_dir():
            raise EventBotError(f"corpus folder {corpus} does not exist")
        results = bench.run(settings, corpus, quick=args.quick)
    command = "eventbot bench " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["bench"] else "eventbot bench"
    results["command"] = command.strip()
    args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.plot is not None and "build_curve" in results:
        bench.plot(results, args.plot)
    print(json.dumps(results) if args.json else f"{bench.table(results)}\n\n(command: {results['command']})")
    return 0


def _writable(path: Path, option: str = "--output") -> None:
    """Raise a one-line error now if `path` cannot be written (without creating it: a failed run leaves nothing)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EventBotError(f"cannot write {path} ({exc.strerror or type(exc).__name__}); choose another {option}") from None
    if path.is_dir() or not os.access(path if path.exists() else path.parent, os.W_OK):
        raise EventBotError(f"cannot write {path} (not a writable file); choose another {option}")


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """The Telegram bot when a token is configured, otherwise the console."""
    if config.telegram.telegram_bot_token is not None:
        return cmd_telegram(config, args)
    _notify("TELEGRAM_BOT_TOKEN is not set: starting the console instead of the Telegram bot.")
    return cmd_console(config, args)


def cmd_telegram(config: Config, args: argparse.Namespace) -> int:
    """Run the Telegram bot: load everything once, then poll (or serve the webhook) until stopped."""
    from bot.telegram import run_telegram

    if config.telegram.telegram_bot_token is None:
        raise EventBotError("TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in .env", fix=Fix.SETTING)
    return run_telegram(config.telegram, QAService.open(config.engine, _notify, complete=not config.engine.watch))
