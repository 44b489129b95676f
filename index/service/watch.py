"""Live content: the articles folder is watched, and the index follows it by itself.

A running bot or console starts a `Watcher`. It waits for changes under SEEDS_DIR (watchfiles, which uses the
operating system's notifications and groups a burst of them: a `git pull` or 50 files copied at once are one
change), then, in its own thread, checks the articles, builds the index incrementally and swaps it into the
service. Questions keep being answered meanwhile: those in flight finish on the old index, the next ones use
the new one.

Every change that can be applied is: an article that cannot be read (half written, empty, damaged, binary, a
pipe or device, a link out of SEEDS_DIR) is left out with its reason, and its previous version goes too, so a
half-written retraction never leaves the old text quoted; the other additions, edits and deletions are swapped
in. Each (file, reason) is reported once, while it lasts. SEEDS_DIR is watched by its path: when it is removed
and created again (a deploy, a fresh `git clone`), the watcher notices within a second or two and follows the
new folder; while it is missing the previous index keeps serving.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index import store
from index.content.loader import SUFFIXES, Skipped
from index.core.errors import EventBotError
from index.service.answering import QAService
from index.store.builder import BuildPlan, complete_multilingual, plan_build, update_index

log = logging.getLogger(__name__)

# watchfiles reports a burst of changes once no new change came for QUIET_MS, or after DEBOUNCE_MS at the most
# (milliseconds): a `git pull` or 50 files copied with pauses of a few hundred milliseconds are one change.
QUIET_MS = 600
UNCHANGED = "articles unchanged"
PREVIOUS = "still answering from the previous index"
DEBOUNCE_MS = 4_000
# With no change for this long (ms), the watcher looks whether SEEDS_DIR is still the folder it watches.
IDLE_MS = 1_000
# How often (seconds) a missing SEEDS_DIR is looked for, and a failed watch is tried again.
RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Update:
    """What one pass did, for the front end to show: `ok` false when the old index kept serving; `skipped`, the
    files left out that were not reported before (each (file, reason) once, while it lasts)."""

    ok: bool
    message: str
    skipped: tuple[Skipped, ...] = ()


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
        self._told: frozenset[Skipped] = frozenset()  # skipped files already reported
        self._last_failure: str | None = None  # a failure is reported once until something else happens
        self._filler: threading.Thread | None = None
        self._fill_wanted = threading.Event()
        self._fill_wanted.set()  # whatever is pending at the start

    def start(self) -> Watcher:
        self._thread = threading.Thread(target=self._run, name="eventbot-watch", daemon=True)
        self._thread.start()
        self._filler = threading.Thread(target=self._fill, name="eventbot-multilingual", daemon=True)
        self._filler.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._fill_wanted.set()
        for thread in (self._thread, self._filler):
            if thread is not None:
                thread.join(timeout=5)

    def _reload(self) -> None:
        if not self._stop.is_set():  # a chunk that ends after the front end stopped is saved, not served
            self.service.reload()

    def _fill(self) -> None:
        """The multilingual vectors of new English sentences, made in the background after each swap (and at the
        start): English questions are answered from new articles at once, Korean ones about them once this is done."""
        while not self._stop.is_set():
            self._fill_wanted.wait()
            self._fill_wanted.clear()
            if self._stop.is_set():
                return
            if not store.pending_multilingual(self.service.settings.index_dir):
                continue
            try:
                made = complete_multilingual(
                    self.service.settings, lambda: self.service.multilingual, on_saved=self._reload, stop=self._stop
                )
            except EventBotError as exc:
                log.warning("multilingual vectors not made or not loaded: %s", exc)
            except Exception:  # never take the front end down
                log.exception("making multilingual vectors failed")
            else:
                if made:
                    log.info("Korean questions now reach %d more sentences", made)

    def _run(self) -> None:
        folder = self.service.settings.seeds_dir
        polling = False  # after a failure (no more system watches, say), the folder is polled instead
        while not self._stop.is_set():
            identity = _identity(folder)
            if identity is None:  # removed, and perhaps on its way back (a deploy): looked for every second
                self._tell(Update(False, f"articles not updated: seeds folder {folder} does not exist; {PREVIOUS}"))
                self.ready.set()
                self._stop.wait(RETRY_SECONDS)
                continue
            try:
                self._watch(folder, identity, polling)
            except Exception:  # the watcher must never take the front end down with it
                if _identity(folder) == identity and not polling:  # a folder that vanished is said so above
                    log.exception("watching %s failed; polling it instead", folder)
                    self._tell(Update(False, f"watching {folder} failed (details in the log); polling it instead"))
                    polling = True
                else:
                    log.debug("watching %s failed again", folder, exc_info=True)
                self._stop.wait(RETRY_SECONDS)

    def _watch(self, folder: Path, identity: tuple[int, int], polling: bool) -> None:
        """Follow one folder until it is stopped, removed or replaced by another at the same path."""
        from watchfiles import Change, watch

        root = os.path.abspath(folder)
        first = True
        for changes in watch(
            root,
            watch_filter=lambda change, path: path == root or _is_watched(change, path),
            debounce=DEBOUNCE_MS,
            step=QUIET_MS,
            stop_event=self._stop,
            raise_interrupt=False,
            yield_on_timeout=True,
            rust_timeout=IDLE_MS,
            force_polling=polling,
        ):
            # Removed, or another folder at the path: a new folder may have the old one's inode (ext4 reuses them),
            # so the removal itself counts too.
            if (Change.deleted, root) in changes or _identity(folder) != identity:
                log.info("%s was removed or replaced; following the folder at that path", folder)
                return
            if first:
                # Watching now: changes made before (a slow start-up, a folder replaced) are taken in once.
                first = False
                self._catch_up()
                self.ready.set()
            elif changes:
                log.info("articles changed: %d path(s)", len(changes))
                self.refresh()

    def _catch_up(self) -> None:
        try:
            plan = plan_build(self.service.settings)
        except EventBotError:
            plan = None  # refresh() says what is wrong
        if plan is None or not plan.up_to_date:
            self.refresh()
        else:
            self._tell(Update(True, UNCHANGED, self._newly_skipped(plan)))

    def refresh(self) -> Update:
        """Check the articles, rebuild, swap; one pass at a time."""
        with self._lock:
            self.passes += 1
            update = self._refresh()
        self._tell(update)
        return update

    def _tell(self, update: Update) -> None:
        """Log the update and pass it on, except news that is no news: a file touched but not changed, a
        failure already reported."""
        if not update.ok and update.message == self._last_failure and not update.skipped:
            return
        self._last_failure = None if update.ok else update.message
        if update.message != UNCHANGED:
            (log.info if update.ok else log.warning)("%s", update.message)
        for skipped in update.skipped:
            log.warning("not quoting %s: %s", skipped.name, skipped.reason)
        if update.message != UNCHANGED or update.skipped:
            self.on_update(update)

    def _newly_skipped(self, plan: BuildPlan) -> tuple[Skipped, ...]:
        """The files skipped now that were not reported yet; a file fixed and broken again is reported again."""
        new = tuple(skipped for skipped in plan.skipped if skipped not in self._told)
        self._told = frozenset(plan.skipped)
        return new

    def _refresh(self) -> Update:
        self._fill_wanted.set()  # an article added by /add is indexed before the watcher sees it: check every pass
        settings, service = self.service.settings, self.service
        try:
            plan = plan_build(settings)
        except EventBotError as exc:
            return Update(False, f"articles not updated: {exc}; {PREVIOUS}")
        skipped = self._newly_skipped(plan)
        if plan.up_to_date:
            return Update(True, UNCHANGED, skipped)
        try:
            report = update_index(settings, lambda: service.embedder, lambda message: None, repair=False, multilingual=False)
            data = service.reload()
            self._fill_wanted.set()
        except EventBotError as exc:
            return Update(False, f"articles not updated: {exc}; {PREVIOUS}", skipped)
        summary = report.summary() if report is not None else "index unchanged"
        left_out = f" {len(plan.skipped)} unreadable file(s) left out." if plan.skipped else ""
        return Update(True, f"{summary}{left_out} Now answering from {len(data.manifest.documents)} articles.", skipped)


def _identity(folder: Path) -> tuple[int, int] | None:
    """Which folder is at this path now (device, inode), or None when there is no folder there."""
    try:
        found = os.stat(folder)
    except OSError:
        return None
    return (found.st_dev, found.st_ino) if stat.S_ISDIR(found.st_mode) else None


def _is_watched(change: object, path: str) -> bool:
    """Articles and folders (a folder of articles moved in or out is one event), no hidden or temporary files
    (editors write `.name.swp`, `name~`; `eventbot add` writes `.name.partial` first)."""
    name = path.rsplit("/", 1)[-1]
    if name.startswith(".") or name.endswith("~"):
        return False
    return "." not in name or any(name.lower().endswith(s) for s in SUFFIXES)
