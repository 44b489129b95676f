"""The reply formatter: valid Telegram HTML and within the length limit, whatever the text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.format import TELEGRAM_LIMIT, answer_html, answer_text, citation, hit_html
from index.records import Answer, DocumentInfo, Hit, Sentence
from tests.telegram_double import html_problem

DOC = DocumentInfo("d", "A <b>title</b> & more", "2025-07-08", "seeds/d.txt", "h", 3)


def hit(text: str, title: str = DOC.title, paragraph: int = 5) -> Hit:
    doc = DocumentInfo("d", title, "2025-07-08", "seeds/d.txt", "h", 3)
    return Hit(Sentence("d", paragraph, 1, 0, len(text), text), doc, 1.0, 0.9)


def answer(*texts: str, notes: tuple[str, ...] = (), title: str = DOC.title) -> Answer:
    hits = tuple(hit(t, title) for t in texts)
    return Answer("q", True, hits, notes, hits)


def test_citation_format() -> None:
    assert citation(hit("x", "President Lee vows", 5), 1) == "[1] President Lee vows, 2025-07-08, paragraph 5"


def test_plain_text_quotes_then_cites() -> None:
    assert answer_text(answer("First.", "Second.")).splitlines() == [
        "First.",
        "[1] A <b>title</b> & more, 2025-07-08, paragraph 5",
        "",
        "Second.",
        "[2] A <b>title</b> & more, 2025-07-08, paragraph 5",
    ]


def test_html_escapes_article_text() -> None:
    (message,) = answer_html(answer("Use <script> & </a> here."))
    assert "&lt;script&gt; &amp; &lt;/a&gt;" in message
    assert "<i>[1] A &lt;b&gt;title&lt;/b&gt; &amp; more, 2025-07-08, paragraph 5</i>" in message


text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=9000)


@settings(max_examples=150, deadline=None)
@given(sentences=st.lists(text, min_size=1, max_size=4), note=text, title=st.text(max_size=600))
def test_any_text_gives_valid_html_within_the_limit(sentences: list[str], note: str, title: str) -> None:
    messages = answer_html(answer(*sentences, notes=(note,) if note else (), title=title))
    assert messages
    for message in messages:
        assert len(message) <= TELEGRAM_LIMIT
        assert html_problem(message) is None, message[:200]


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="<>&\\\"' ab", min_size=4000, max_size=20000))
def test_markup_heavy_long_sentences_are_split_not_broken(sentence: str) -> None:
    messages = answer_html(answer(sentence))
    assert all(len(m) <= TELEGRAM_LIMIT and html_problem(m) is None for m in messages)
    assert "[1]" in messages[-1]


@settings(max_examples=100, deadline=None)
@given(sentence=text, title=st.text(max_size=600))
def test_one_hit_message_for_inline_results_is_valid_and_within_the_limit(sentence: str, title: str) -> None:
    message = hit_html(hit(sentence, title), 1)
    assert len(message) <= TELEGRAM_LIMIT
    assert html_problem(message) is None, message[:200]
    assert "[1]" in message


def test_one_hit_message_cuts_a_long_markup_sentence_without_breaking_entities() -> None:
    message = hit_html(hit("&<>" * 3000), 1)
    assert len(message) <= TELEGRAM_LIMIT and html_problem(message) is None
    assert "…\n<i>[1]" in message
