from pathlib import Path

import pytest

from index.errors import SettingsError
from index.settings import load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.seeds_dir == Path("seeds") and s.top_k == 3 and s.embedding_model == "all-MiniLM-L6-v2"
    assert s.telegram_bot_token is None


def test_env_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("TOP_K=5\nADMIN_USER_IDS=1, 2 3\nTELEGRAM_BOT_TOKEN=123:hush-hush\n")
    monkeypatch.setenv("TOP_K", "7")
    s = load_settings()
    assert s.top_k == 7  # the environment wins over .env
    assert s.admin_user_ids == frozenset({1, 2, 3})
    assert s.telegram_bot_token is not None and "hush-hush" not in repr(s)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TOP_K", "abc"),
        ("TOP_K", "0"),
        ("DECLINE_THRESHOLD", "high"),
        ("LOG_LEVEL", "LOUD"),
        ("ADMIN_USER_IDS", "alice"),
        ("EMBEDDING_BACKEND", "gpu"),
    ],
)
def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"invalid setting {name}") as caught:
        load_settings()
    assert "\n" not in str(caught.value)
