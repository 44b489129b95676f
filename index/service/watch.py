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

from index.content.loader import SUFFIXES
from index.core.errors import EventBotError
from index.service.answering import QAService
from index.store.builder import plan_build, update_index

log = logging.getLogger(__name__)

# watchfiles reports a burst of changes once no new change came for QUIET_MS, or after DEBOUNCE_MS at the most
# (milliseconds): a `git pull` or 50 files copied with pauses of a few hundred milliseconds are one change.
QUIET_MS = 600
UNCHANGED = "articles unchanged"
DEBOUNCE_MS = 4_000


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
        self.ready = threading.Event()  # set once the folder is watched (tests wait for it)
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
                folder,
                watch_filter=_is_watched,
                debounce=DEBOUNCE_MS,
                step=QUIET_MS,
                stop_event=self._stop,
                raise_interrupt=False,
                yield_on_timeout=True,
                rust_timeout=1_000,
            )
            for changes in changes_seen:
                if not self.ready.is_set():
                    # Watching now: changes made since the index was loaded (a slow start-up) are taken in once.
                    if not self._up_to_date():
                        self.refresh()
                    self.ready.set()
                    continue
                if changes:
                    log.info("articles changed: %d path(s)", len(changes))
                    self.refresh()
        except Exception:  # the watcher must never take the front end down with it
            log.exception("watching %s stopped", folder)
            self.on_update(Update(False, f"stopped watching {folder}; restart to pick up changes (details in the log)"))

    def _up_to_date(self) -> bool:
        try:
            return plan_build(self.service.settings).up_to_date
        except EventBotError:
            return False  # refresh() says what is wrong

    def refresh(self) -> Update:
        """Check the articles, rebuild, swap; one pass at a time."""
        with self._lock:
            self.passes += 1
            update = self._refresh()
        (log.info if update.ok else log.warning)("%s", update.message)
        if update.message != UNCHANGED:  # a file touched but not changed is nobody's news
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
            return Update(True, UNCHANGED)
        try:
            report = update_index(settings, lambda: service.embedder, lambda message: None, repair=False)
            data = service.reload()
        except EventBotError as exc:
            return Update(False, f"articles not updated: {exc}; still answering from the previous index")
        summary = report.summary() if report is not None else "index unchanged"
        return Update(True, f"{summary} Now answering from {len(data.manifest.documents)} articles.")


def _is_watched(change: object, path: str) -> bool:
    """Articles and folders (a folder of articles moved in or out is one event), no hidden or temporary files
    (editors write `.name.swp`, `name~`; `eventbot add` writes `.name.partial` first)."""
    name = path.rsplit("/", 1)[-1]
    if name.startswith(".") or name.endswith("~"):
        return False
    return "." not in name or any(name.lower().endswith(s) for s in SUFFIXES)
