import os
import stat
from pathlib import Path

import pytest

from index.content import loader
from index.content.loader import load_documents
from index.core.errors import NoDocumentsError


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
    assert (doc.title, doc.date) == ("Seoul Air Show", "2025-09-01")  # a headline, cased
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


def test_a_link_out_of_the_seeds_folder_is_not_followed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    write(seeds, "article.txt", "date 2025-07-08 Title\nA paragraph.\n")
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=123:secret-token\n", encoding="utf-8")
    (seeds / "leak.txt").symlink_to(tmp_path / ".env")
    (seeds / "inside.txt").symlink_to(seeds / "article.txt")
    (seeds / "outside-folder").symlink_to(tmp_path, target_is_directory=True)
    result = load_documents(seeds)
    texts = " ".join(p for doc in result.documents for p in doc.paragraphs)
    assert "secret-token" not in texts
    assert any("leak.txt" in w and "outside SEEDS_DIR" in w for w in result.warnings)
    assert {doc.doc_id for doc in result.documents} == {"article", "inside"}


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_pipes_and_devices_are_skipped_without_reading_them(tmp_path: Path, kind: str) -> None:
    seeds = tmp_path / "seeds"
    write(seeds, "article.txt", "date 2025-07-08 Title\nA paragraph.\n")
    special = seeds / f"{kind}.txt"
    if kind == "fifo":
        os.mkfifo(special)  # reading it would block forever
    else:
        os.mknod(special, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: reading it never ends
    result = load_documents(seeds)
    assert [doc.doc_id for doc in result.documents] == ["article"]
    assert any(special.name in w and "not a regular file" in w for w in result.warnings)


def test_the_size_limit_holds_while_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = tmp_path / "seeds"
    write(seeds, "article.txt", "date 2025-07-08 Title\nA paragraph.\n")
    write(seeds, "big.txt", "word " * 400)
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 1_000)
    real = Path.stat

    def lying(self: Path, **kwargs: bool) -> os.stat_result:
        # A file's reported size can lie (/proc files, a file still growing): it claims 10 bytes.
        found = real(self, **kwargs)
        if self.name != "big.txt":
            return found
        return os.stat_result(
            (found.st_mode, found.st_ino, found.st_dev, found.st_nlink, found.st_uid, found.st_gid, 10, 0, 0, 0)
        )

    monkeypatch.setattr(Path, "stat", lying)
    result = load_documents(seeds)
    assert [doc.doc_id for doc in result.documents] == ["article"]
    assert any("big.txt" in w and "limit" in w for w in result.warnings)


def test_control_characters_never_reach_the_text(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "date 2025-07-08 Title\x1b[2J\nBefore \x1b]0;owned\x07 after \x9b31m red.\n")
    (doc,) = load_documents(tmp_path).documents
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in doc.title + "".join(doc.paragraphs))
    assert doc.paragraphs == ("Before ]0;owned after 31m red.",)


def test_markdown_list_items_and_table_rows_are_quotable_units_without_markup(tmp_path: Path) -> None:
    write(
        tmp_path,
        "kf21.md",
        "# KF-21 rolls out\ndate: 2025-09-01\n\n"
        "The **first** production jet was [delivered](https://example.com) on _Monday_.\n\n"
        "## Specifications\n\n- Top speed: Mach 1.81\n- Length: 16.9 metres\n  including the probe\n* Crew: one or two\n\n"
        "| Item | Amount |\n|---|---:|\n| KF-21 | 1.2 trillion won |\n| L-SAM | 300 billion won |\n",
    )
    (doc,) = load_documents(tmp_path).documents
    assert doc.paragraphs == (
        "The first production jet was delivered on Monday.",
        "Top speed: Mach 1.81",
        "Length: 16.9 metres including the probe",
        "Crew: one or two",
        "Item: KF-21; Amount: 1.2 trillion won",
        "Item: L-SAM; Amount: 300 billion won",
    )


def test_a_list_in_plain_text_loses_its_markers(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "date 2025-07-08 Title\nIntro line.\n- First fact.\n2. Second fact.\n")
    (doc,) = load_documents(tmp_path).documents
    assert doc.paragraphs == ("Intro line.", "First fact.", "Second fact.")


@pytest.mark.parametrize(
    ("name", "text", "title", "date", "note"),
    [
        ("a.txt", "Date: 2025-09-16 Hanwha wins repair job\nBody.\n", "Hanwha wins repair job", "2025-09-16", None),
        ("b.txt", "Date: Sept. 16 Hanwha wins\nBody.\n", "B", None, "is not a header"),
        ("c.md", "# Budget\nDate: 2025-09-02\n\nBody.\n", "Budget", "2025-09-02", None),
        ("d.md", "# Budget\nDate: September 2, 2025\n\nBody.\n", "Budget", None, "is not a date line"),
    ],
)
def test_a_near_miss_header_is_understood_or_reported_never_quoted(
    tmp_path: Path, name: str, text: str, title: str, date: str | None, note: str | None
) -> None:
    write(tmp_path, name, text)
    result = load_documents(tmp_path)
    (doc,) = result.documents
    assert (doc.title, doc.date, doc.paragraphs) == (title, date, ("Body.",))
    if note is None:
        assert not result.warnings
    else:
        assert any(name in w and note in w for w in result.warnings)
