import json
from pathlib import Path

import pytest

from bot.cli import Config
from bot.settings import LogSettings, TelegramSettings
from index.core.errors import SettingsError
from index.core.settings import Settings, load, load_settings
from index.ranking import answerability


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMBEDDING_BACKEND")
    monkeypatch.delenv("DECLINE_THRESHOLD")
    s = load_settings()
    assert s.seeds_dir == Path("seeds") and s.top_k == 3 and s.embedding_model == "all-MiniLM-L6-v2"
    # Unset: the answerability model's own calibrated threshold is used (a probability).
    assert s.embedding_backend == "auto" and s.decline_threshold is None and s.answerability_model is None
    assert 0.0 < answerability.judges(s).threshold("en") < 1.0
    assert load(TelegramSettings).telegram_bot_token is None
    assert load(LogSettings).log_level == "WARNING"


def test_engine_settings_hold_nothing_of_the_front_ends() -> None:
    engine = set(load_settings().model_dump())
    assert not engine & (set(TelegramSettings.model_fields) | set(LogSettings.model_fields))
    assert not any(name.startswith(("telegram", "webhook", "admin", "allowed", "rate", "log")) for name in engine)


def test_env_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("TOP_K=5\nADMIN_USER_IDS=1, 2 3\nTELEGRAM_BOT_TOKEN=123:hush-hush\nLOG_LEVEL=info\n")
    monkeypatch.setenv("TOP_K", "7")
    config = Config.load()
    assert config.engine.top_k == 7  # the environment wins over .env
    assert config.telegram.admin_user_ids == frozenset({1, 2, 3})
    assert config.log.log_level == "INFO"
    token = config.telegram.telegram_bot_token
    assert token is not None and "hush-hush" not in repr(config) and config.telegram.secrets() == ["123:hush-hush"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TOP_K", "abc"),
        ("TOP_K", "0"),
        ("DECLINE_THRESHOLD", "high"),
        ("DECLINE_THRESHOLD", "1.5"),
        ("LOG_LEVEL", "LOUD"),
        ("ADMIN_USER_IDS", "alice"),
        ("EMBEDDING_BACKEND", "gpu"),
    ],
)
def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"invalid setting {name}") as caught:
        Config.load()
    assert "\n" not in str(caught.value)


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from bot.cli import main

    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("value", ["[[]]", "[true]", "[false, 5]", '["5"]', "[1.5]", '{"a": 1}', "[" * 100_000, "1, true"])
def test_telegram_ids_must_be_whole_numbers(
    env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ADMIN_USER_IDS", value)
    code, err = _cli(["sources"], capsys)
    assert code == 1 and err.startswith("eventbot: invalid setting ADMIN_USER_IDS") and err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DECLINE_THRESHOLD", "nan"),
        ("BATCH_WAIT_MS", "nan"),
        ("QUESTION_LOG_DAYS", "inf"),
        ("FOLLOWUP_SECONDS", "-inf"),
        ("TELEGRAM_TIMEOUT", "nan"),
        ("TELEGRAM_MESSAGES_PER_SECOND", "inf"),
    ],
)
def test_numeric_settings_must_be_finite(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"invalid setting {name}: .*finite"):
        Config.load()


def _model_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model" / "answerability.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _shipped() -> dict[str, object]:
    return dict(json.loads(answerability.SHIPPED.read_text(encoding="utf-8")))


def _with(**changes: object) -> str:
    return json.dumps({**_shipped(), **changes})


@pytest.mark.parametrize(
    "text",
    [
        _with(weights=[float("nan")] * len(answerability.FEATURES)),
        _with(mean=[float("inf")] * len(answerability.FEATURES)),
        _with(bias=float("-inf")),
        _with(threshold=float("nan")),
        _with(weights=[str(w) for w in _shipped()["weights"]]),  # type: ignore[attr-defined]
        _with(bias="0.5"),
        _with(weights=[True] * len(answerability.FEATURES)),
        _with(weights=[[1.0]] * len(answerability.FEATURES)),
        _with(features="similarity"),
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 100_000 + "1" + "}" * 100_000,
        "[1, 2, 3]",
        " " * 11_000_000 + _with(),  # bigger than any model (and than the read limit)
    ],
    ids=[
        "nan-weights",
        "inf-mean",
        "inf-bias",
        "nan-threshold",
        "string-weights",
        "string-bias",
        "bool-weights",
        "nested-weights",
        "features-string",
        "deep-list",
        "deep-object",
        "not-an-object",
        "huge",
    ],
)
def test_an_unusable_answerability_model_is_one_line_naming_the_file(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = _model_file(tmp_path, text)
    monkeypatch.setenv("ANSWERABILITY_MODEL", str(path))
    answerability.load.cache_clear()
    code, err = _cli(["ask", "Where was K-Defense Day held?"], capsys)
    assert code == 1, err
    assert err.startswith(f"eventbot: ANSWERABILITY_MODEL {path}: cannot be used") and err.count("\n") == 1, err
    assert "Traceback" not in err and "unexpected error" not in err


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/", "/no/such/model.json"])
def test_an_answerability_model_path_that_is_no_file_is_one_line(
    env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setenv("ANSWERABILITY_MODEL", path)
    code, err = _cli(["ask", "Where was K-Defense Day held?"], capsys)
    assert code == 1 and err.startswith(f"eventbot: ANSWERABILITY_MODEL {path}: cannot be used"), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_sound_answerability_model_file_still_loads(tmp_path: Path) -> None:
    path = _model_file(tmp_path, _with())
    assert answerability.load(path).weights.shape == (len(answerability.FEATURES),)
