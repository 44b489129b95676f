from pathlib import Path

import pytest

from bot.cli import Config
from bot.settings import LogSettings, TelegramSettings
from index.core.errors import SettingsError
from index.core.settings import load, load_settings
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
