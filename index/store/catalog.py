"""The sentence records and the manifest: what the index holds and what built it.

Both are validated field by field on load (types and ranges, with pydantic), so a damaged or edited
file is refused as damaged instead of failing later, in the middle of an answer.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import TypeAdapter

from index.core.errors import IndexDamagedError, IndexOutdatedError
from index.core.records import DocumentInfo, Sentence
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


_MANIFEST = TypeAdapter(Manifest)
_ROWS = TypeAdapter(list[tuple[str, int, int, int, int, str]])


def save_manifest(folder: Path, manifest: Manifest) -> None:
    write_bytes(folder / MANIFEST, json.dumps(asdict(manifest), ensure_ascii=False, indent=1).encode("utf-8"))


def load_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    with reading(path, "index manifest"):
        raw = path.read_bytes()
        version = json.loads(raw).get("format_version")
        if version != FORMAT_VERSION:
            raise IndexOutdatedError(f"index at {folder} has format {version}, this version reads {FORMAT_VERSION}")
        manifest = _MANIFEST.validate_json(raw, strict=True)
        problem = _manifest_problem(manifest)
    if problem:
        raise IndexDamagedError(f"index manifest {path} is damaged ({problem})")
    return manifest


def _manifest_problem(m: Manifest) -> str | None:
    if m.dimension < 1 or m.sentence_count < 0 or m.index_type not in {"flat", "hnsw"}:
        return "dimension, sentence count or index type out of range"
    ids = [doc.doc_id for doc in m.documents]
    if len(set(ids)) != len(ids):
        return "a document id appears twice"
    if any(doc.sentence_count < 0 for doc in m.documents) or sum(doc.sentence_count for doc in m.documents) != m.sentence_count:
        return "the documents' sentence counts do not add up"
    return None


def save_sentences(folder: Path, sentences: tuple[Sentence, ...]) -> None:
    rows = [[s.doc_id, s.paragraph, s.sentence, s.start, s.end, s.text] for s in sentences]
    write_bytes(folder / SENTENCES, json.dumps(rows, ensure_ascii=False).encode("utf-8"))


def load_sentences(folder: Path, manifest: Manifest) -> tuple[Sentence, ...]:
    """The sentence records, checked against the manifest: known documents, their counts, sane numbers."""
    path = folder / SENTENCES
    with reading(path):
        sentences = tuple(Sentence(*row) for row in _ROWS.validate_json(path.read_bytes(), strict=True))
    expected = {doc.doc_id: doc.sentence_count for doc in manifest.documents}
    if Counter(s.doc_id for s in sentences) != Counter({k: v for k, v in expected.items() if v}):
        raise IndexDamagedError(f"index file {path} is damaged (its documents do not match the manifest)")
    if any(s.paragraph < 1 or s.sentence < 1 or not 0 <= s.start <= s.end or not s.text.strip() for s in sentences):
        raise IndexDamagedError(f"index file {path} is damaged (a sentence has impossible numbers or no text)")
    return sentences
