from pathlib import Path

import pytest

from index.errors import NoDocumentsError
from index.loader import load_documents


def write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_seed_format_with_header(seeds: Path) -> None:
    (doc,) = load_documents(seeds).documents
    assert doc.doc_id == "2025-07-08-k-defense-day"
    assert doc.title == "President Lee vows to make Korea a global defense industry powerhouse"
    assert doc.date == "2025-07-08"
    assert len(doc.paragraphs) == 19
    assert doc.paragraphs[0].startswith("President Lee Jae Myung on Tuesday")


def test_markdown_title_date_and_blank_line_paragraphs(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.md",
        "# Tanks for Poland\ndate: 2025-08-01\n\nFirst line\ncontinues here.\n\n## Sub\n\nSecond paragraph.\n",
    )
    (doc,) = load_documents(tmp_path).documents
    assert (doc.title, doc.date) == ("Tanks for Poland", "2025-08-01")
    assert doc.paragraphs == ("First line continues here.", "Second paragraph.")


def test_plain_text_without_header_takes_title_and_date_from_file_name(tmp_path: Path) -> None:
    write(tmp_path, "2025-09-01-seoul_air-show.txt", "One paragraph.\n\nAnother one.\n")
    (doc,) = load_documents(tmp_path).documents
    assert (doc.title, doc.date) == ("Seoul air show", "2025-09-01")
    assert doc.paragraphs == ("One paragraph.", "Another one.")


def test_leading_white_space_before_header_is_allowed(tmp_path: Path) -> None:
    write(tmp_path, "x.txt", "  date 2025-01-02 A title\nBody.\n")
    (doc,) = load_documents(tmp_path).documents
    assert (doc.title, doc.date, doc.paragraphs) == ("A title", "2025-01-02", ("Body.",))


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("binary.txt", b"\x00\x01\x02binary", "binary"),
        ("latin1.txt", "caf\xe9 ol\xe9".encode("latin-1"), "not UTF-8"),
        ("empty.txt", b"", "empty"),
        ("blank.md", b"\n\n   \n", "empty"),
    ],
)
def test_unusable_file_is_skipped_with_a_warning_naming_it(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    write(tmp_path, "good.txt", "date 2025-01-01 Good\nA sentence.\n")
    write(tmp_path, name, data)
    result = load_documents(tmp_path)
    assert [d.doc_id for d in result.documents] == ["good"]
    (warning,) = result.warnings
    assert name in warning and reason in warning


def test_no_documents_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NoDocumentsError, match="no readable articles"):
        load_documents(tmp_path)
    with pytest.raises(NoDocumentsError, match="does not exist"):
        load_documents(tmp_path / "missing")


def test_hidden_and_other_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "Text.")
    write(tmp_path, ".hidden.txt", "Hidden.")
    write(tmp_path, "notes.pdf", "Not an article.")
    assert [d.doc_id for d in load_documents(tmp_path).documents] == ["a"]
