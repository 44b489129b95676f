"""Adding an article while serving: a page by its URL (`eventbot add`, Telegram /add) or an uploaded file, saved
under SEEDS_DIR (`index/content/fetch.py`), then the index updated and what it now holds of the article returned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from index import store
from index.content.fetch import Rules, Saved, add_page
from index.content.loader import read_document
from index.core.errors import FetchError
from index.core.records import DocumentInfo
from index.core.settings import Settings
from index.models.embedder import Embedder
from index.store.builder import update_index


def index_added(settings: Settings, path: Path, embedder: Callable[[], Embedder], notify: Callable[[str], None]) -> DocumentInfo:
    """Update the index with a newly saved article and return what the index holds of it. The file is read as
    the loader will read it first: one it refuses is removed again (FetchError with the loader's reason) before
    any build, so a refused upload never holds up the index."""
    try:
        document, _ = read_document(path, settings.seeds_dir)
    except (OSError, ValueError) as exc:
        path.unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FetchError(f"{path.name} was not added: {reason}") from None
    # A running bot's watcher makes the new sentences' multilingual vectors in the background; without one, now.
    update_index(settings, embedder, notify, repair=True, multilingual=not settings.watch)
    manifest = store.read_manifest(settings.index_dir)  # the manifest only: no vectors are loaded for this
    info = next((d for d in manifest.documents if d.doc_id == document.doc_id), None) if manifest else None
    if info is None:
        raise FetchError(f"{path.name} was saved but is not in the index; run `eventbot build` and look at its warnings")
    return info


def add_article(
    settings: Settings, url: str, embedder: Callable[[], Embedder], notify: Callable[[str], None]
) -> tuple[Saved, DocumentInfo]:
    """The one path of `eventbot add` and Telegram's /add: save the page (or update it, when its address was added
    before), update the index, return what it holds."""
    rules = Rules(deadline_s=settings.add_deadline_seconds, allow_private=settings.add_allow_private_addresses)
    saved = add_page(settings.seeds_dir, url, rules=rules)
    return saved, index_added(settings, saved.path, embedder, notify)
