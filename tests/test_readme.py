"""The README a newcomer reads: short, every command in it valid as written, every setting real, every link there."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import _parser
from bot.settings import LogSettings, TelegramSettings
from index.core.settings import Settings

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(tool: str) -> list[str]:
    """Every `tool …` command in the README: the command tables' first column, code spans with an option, and shell
    code blocks (comments cut); a name in running text (`eventbot add`) is a mention, not a command."""
    found = re.findall(rf"^\| `({tool} [^`]+)`", README, flags=re.M) + re.findall(rf"`({tool} [^`]*--[^`]+)`", README)
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S):
        found += [line.split("#")[0].strip() for line in block.splitlines() if line.strip().startswith(tool + " ")]
    return sorted(set(found))


def test_the_readme_is_short_and_carries_no_measurement_diaries() -> None:
    assert len(README.splitlines()) <= 300
    assert not re.search(r"\bissue \d+", README, flags=re.I)
    for name in ("quality", "korean", "performance", "reliability"):
        assert (REPO / "docs" / f"{name}.md").is_file()
        assert not re.search(r"\(issue \d+\)", (REPO / "docs" / f"{name}.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("command", _commands("eventbot"))
def test_every_eventbot_command_in_the_readme_parses_as_written(command: str) -> None:
    words = shlex.split(command.replace("QUESTION", "question").replace("USER_ID", "12345"))[1:]
    if words[:1] == ["run"] and "/" in command:  # "eventbot run / eventbot telegram"
        words = ["run"]
    try:
        _parser().parse_args(words)
    except SystemExit as exc:
        pytest.fail(f"`{command}` does not parse (exit {exc.code})")


def test_every_make_target_in_the_readme_exists() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.M))
    for command in _commands("make"):
        target = command.split()[1]
        assert target in targets, command


def test_every_setting_named_in_the_readme_is_a_real_one() -> None:
    known = {name.upper() for cls in (Settings, TelegramSettings, LogSettings) for name in cls.model_fields}
    rows = re.findall(r"^\| (`[A-Z_]+`(?:, `[A-Z_]+`)*) \|", README, flags=re.M)
    named = {n for row in rows for n in re.findall(r"`([A-Z_]+)`", row)}
    assert named and named <= known, named - known
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    assert all(name in example for name in named), [n for n in named if n not in example]


def test_every_link_in_the_readme_leads_somewhere() -> None:
    for target in re.findall(r"\]\(((?!https?:)[^)]+)\)", README):
        assert (REPO / target).exists(), target


def test_the_readme_ask_command_runs_as_written(tmp_path: Path) -> None:
    """The one `ask --json` line the README shows, run for real (on the stand-in models)."""
    (command,) = [c for c in _commands("eventbot") if c.startswith("eventbot ask --json")]
    done = subprocess.run(
        [sys.executable, "-m", "bot", *shlex.split(command)[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "SEEDS_DIR": str(REPO / "seeds"), "INDEX_DIR": str(tmp_path / "index")},
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert '"answered"' in done.stdout and "Grand Hyatt" in done.stdout
