"""The sentence records and the manifest: what the index holds and what built it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from index.errors import IndexOutdatedError
from index.records import DocumentInfo, Sentence
from index.store.files import reading, write_bytes

# Bump when the files of a build change; an index of another format is rebuilt in full.
FORMAT_VERSION = 3
MANIFEST, SENTENCES = "manifest.json", "sentences.json"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What built the index, stamped so a mismatch on load is refused."""

    format_version: int
    pipeline: int
    model: str
    dimension: int
    index_type: str
    sentence_count: int
    built_at: str
    documents: tuple[DocumentInfo, ...]


def save_manifest(folder: Path, manifest: Manifest) -> None:
    write_bytes(folder / MANIFEST, json.dumps(asdict(manifest), ensure_ascii=False, indent=1).encode("utf-8"))


def load_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    with reading(path, "index manifest"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format_version") != FORMAT_VERSION:
            raise IndexOutdatedError(
                f"index at {folder} has format {raw.get('format_version')}, this version reads {FORMAT_VERSION}"
            )
        documents = tuple(DocumentInfo(**doc) for doc in raw.pop("documents"))
        return Manifest(documents=documents, **raw)


def save_sentences(folder: Path, sentences: tuple[Sentence, ...]) -> None:
    rows = [[s.doc_id, s.paragraph, s.sentence, s.start, s.end, s.text] for s in sentences]
    write_bytes(folder / SENTENCES, json.dumps(rows, ensure_ascii=False).encode("utf-8"))


def load_sentences(folder: Path) -> tuple[Sentence, ...]:
    path = folder / SENTENCES
    with reading(path):
        return tuple(Sentence(*row) for row in json.loads(path.read_text(encoding="utf-8")))
