"""The reply formatter: valid Telegram HTML and within the length limit, whatever the text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.format import TELEGRAM_LIMIT, answer_html, answer_text, citation, hit_html
from index.core.records import Answer, DocumentInfo, Hit, Sentence
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


def test_plain_text_quotes_then_cites_each_article_once() -> None:
    other = DocumentInfo("e", "Another story", "2025-08-01", "seeds/e.txt", "h", 3)
    third = Hit(Sentence("e", 2, 1, 0, 6, "Third."), other, 1.0, 0.9)
    hits = (hit("First.", paragraph=5), third, hit("Second.", paragraph=7))
    assert answer_text(Answer("q", True, hits, (), hits)).splitlines() == [
        "First.",
        "Second.",
        "[1] A <b>title</b> & more, 2025-07-08, paragraphs 5, 7",
        "",
        "Third.",
        "[2] Another story, 2025-08-01, paragraph 2",
    ]


def test_telegram_quotes_are_blockquotes_with_the_asked_words_and_figure_in_bold() -> None:
    text = "Poland signed a deal worth $6.5 billion for 180 tanks in 2025."
    hits = (hit(text), hit("The tanks arrive next year.", paragraph=6))
    (message,) = answer_html(Answer("How much is the Poland tank deal worth?", True, hits, (), hits))
    assert message.count("<blockquote>") == 2 and message.count("[1]") == 1 and "[2]" not in message
    assert "<b>Poland</b>" in message and "<b>$6.5 billion</b>" in message and "<b>tanks</b>" in message
    assert "<b>180</b>" not in message and "<b>2025</b>" not in message  # a how-much question asks for the amount
    assert message.endswith("<i>[1] A &lt;b&gt;title&lt;/b&gt; &amp; more, 2025-07-08, paragraphs 5, 6</i>")
    (count,) = answer_html(Answer("How many tanks?", True, hits[:1], (), hits[:1]))
    assert "<b>180</b>" in count and "<b>2025</b>" not in count and html_problem(count) is None


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
