"""Live content: the articles folder is watched, and the index follows it by itself.

A running bot or console starts a `Watcher`. It waits for changes under SEEDS_DIR (watchfiles, which uses the
operating system's notifications and groups a burst of them: a `git pull` or 50 files copied at once are one
change), then, in its own thread, checks the articles, builds the index incrementally and swaps it into the
service. Questions keep being answered meanwhile: those in flight finish on the old index, the next ones use
the new one. When an article cannot be read (half written, damaged, binary) nothing is swapped: the old
index keeps serving and the problem is reported, so a broken file never takes articles away from readers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from index.builder import plan_build, update_index
from index.errors import EventBotError
from index.loader import SUFFIXES
from index.service import QAService

log = logging.getLogger(__name__)

# watchfiles waits this long after the last change of a burst before reporting it (milliseconds).
DEBOUNCE_MS = 800
# How often the watching thread checks whether it should stop (milliseconds).
STEP_MS = 100


@dataclass(frozen=True, slots=True)
class Update:
    """What one pass did, for the front end to show: `ok` false when the old index kept serving."""

    ok: bool
    message: str


class Watcher:
    """Watches `service.settings.seeds_dir` from a daemon thread; `on_update` hears about every pass."""

    def __init__(self, service: QAService, on_update: Callable[[Update], None] = lambda update: None) -> None:
        self.service = service
        self.on_update = on_update
        self.passes = 0  # rebuild passes made (tests count them)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> Watcher:
        self._thread = threading.Thread(target=self._run, name="eventbot-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        from watchfiles import watch

        folder = self.service.settings.seeds_dir
        try:
            changes_seen = watch(
                folder, watch_filter=_is_article, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=self._stop, raise_interrupt=False
            )
            for changes in changes_seen:
                log.info("articles changed: %d file(s)", len(changes))
                self.refresh()
        except Exception:  # the watcher must never take the front end down with it
            log.exception("watching %s stopped", folder)
            self.on_update(Update(False, f"stopped watching {folder}; restart to pick up changes (details in the log)"))

    def refresh(self) -> Update:
        """Check the articles, rebuild, swap; one pass at a time."""
        with self._lock:
            self.passes += 1
            update = self._refresh()
        (log.info if update.ok else log.warning)("%s", update.message)
        self.on_update(update)
        return update

    def _refresh(self) -> Update:
        settings, service = self.service.settings, self.service
        try:
            plan = plan_build(settings)
        except EventBotError as exc:
            return Update(False, f"articles not updated: {exc}; still answering from the previous index")
        if failed := [warning for warning in plan.warnings if warning.startswith("skipped ")]:
            problems = "; ".join(failed[:3]) + ("; …" if len(failed) > 3 else "")
            return Update(False, f"articles not updated, still answering from the previous index: {problems}")
        if plan.up_to_date:
            return Update(True, "articles unchanged")
        try:
            report = update_index(settings, lambda: service.embedder, lambda message: None, repair=False)
            data = service.reload()
        except EventBotError as exc:
            return Update(False, f"articles not updated: {exc}; still answering from the previous index")
        summary = report.summary() if report is not None else "index unchanged"
        return Update(True, f"{summary} Now answering from {len(data.manifest.documents)} articles.")


def _is_article(change: object, path: str) -> bool:
    """Article files only, no hidden or temporary ones (editors write `.name.swp`, `name~`)."""
    name = path.rsplit("/", 1)[-1]
    return not name.startswith(".") and not name.endswith("~") and any(name.lower().endswith(s) for s in SUFFIXES)
