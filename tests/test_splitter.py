import pytest

from index.content import splitter
from index.content.splitter import split_document, split_paragraph
from index.core.records import Document


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_paragraph(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "He noted that South Korea signed a 9 trillion won ($6.7 billion) contract. It was big.",
            ["He noted that South Korea signed a 9 trillion won ($6.7 billion) contract.", "It was big."],
        ),
        (
            "The 1950-53 Korean War ended in a cease-fire. Lee Jae Myung spoke.",
            ["The 1950-53 Korean War ended in a cease-fire.", "Lee Jae Myung spoke."],
        ),
        (
            "The U.S. and Korea agreed. Talks went on.",
            ["The U.S. and Korea agreed.", "Talks went on."],
        ),
        (
            '"We will grow," Lee said. "It is a new engine." He left.',
            ['"We will grow," Lee said.', '"It is a new engine."', "He left."],
        ),
        (
            'He promised more opportunities."',
            ['He promised more opportunities."'],
        ),
        (
            "Dr. Kim met Mr. Park at 3 p.m. on Tuesday. They talked.",
            ["Dr. Kim met Mr. Park at 3 p.m. on Tuesday.", "They talked."],
        ),
    ],
)
def test_tricky_sentences_stay_whole(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_stray_closing_quote_joins_the_sentence_before() -> None:
    text = 'He promised cooperation so that companies can have more opportunities." Then he left.'
    got = sentences(text)
    assert got[0].endswith('opportunities."')
    assert all(any(ch.isalnum() for ch in s) for s in got)


def test_offsets_and_numbers_point_into_the_paragraph() -> None:
    doc = Document("d", "T", None, "d.txt", ("First one. Second one.", "Third, in paragraph two."), "h")
    got = split_document(doc)
    assert [(s.paragraph, s.sentence) for s in got] == [(1, 1), (1, 2), (2, 1)]
    for s in got:
        assert doc.paragraphs[s.paragraph - 1][s.start : s.end] == s.text


def test_blank_paragraph_gives_no_sentences() -> None:
    assert sentences("   ") == []


def test_a_huge_paragraph_is_split_in_bounded_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    # pysbd's time grows with the square of its input: it must never see more than a bounded piece.
    seen: list[int] = []
    real = splitter._segmenter()

    class Recording:
        def segment(self, text: str) -> list[object]:
            seen.append(len(text))
            return real.segment(text)

    monkeypatch.setattr(splitter, "_segmenter", lambda: Recording())
    sentence = "The tanks arrived in Gdynia on Sunday after a long voyage. "
    paragraph = (sentence * 4000).strip() + " " + "word " * 5000  # 240,000 characters, then a run with no full stop
    spans = split_paragraph(paragraph)
    assert max(seen) <= splitter.MAX_SEGMENT_CHARS
    assert [paragraph[a:b] for a, b in spans[:2]] == [sentence.strip(), sentence.strip()]
    assert sum(1 for a, b in spans if paragraph[a:b] == sentence.strip()) == 4000
    assert spans[-1][1] == len(paragraph.rstrip())
