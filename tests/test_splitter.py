import pytest

from index.records import Document
from index.splitter import split_document, split_paragraph


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
