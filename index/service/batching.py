"""Micro-batching for concurrent callers: questions that arrive together are embedded together.

A front end serving many chats awaits `AnswerBatcher.answer`; while one batch is being answered in a
worker thread, newly arriving questions queue up and go out as the next batch. The model's cost per
batch grows much more slowly than its size, so throughput rises with load, and the event loop never
runs model code.
"""

from __future__ import annotations

import asyncio
import logging

from index.core.records import Answer
from index.service.answering import Prepared, QAService

log = logging.getLogger(__name__)


class AnswerBatcher:
    """Answers questions from many coroutines, batching those that arrive within `wait_ms` of each other."""

    def __init__(self, service: QAService, *, wait_ms: float = 3.0, max_batch: int = 64) -> None:
        self.service = service
        self.wait = wait_ms / 1000
        self.max_batch = max_batch
        self._pending: list[tuple[Prepared, asyncio.Future[Answer]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def answer(self, question: str, prefer: str | None = None) -> Answer:
        """Answer one question; raises BadQuestionError for an empty one, like the service."""
        prepared = self.service.prepare(question, prefer)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending.append((prepared, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        if self.wait:
            await asyncio.sleep(self.wait)  # let the questions of this moment join the batch
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                answers = await asyncio.to_thread(self.service.answer_prepared, [item for item, _ in batch])
            except Exception as exc:  # every waiter hears about it; the next batch still runs
                log.exception("answering a batch of %d failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)
