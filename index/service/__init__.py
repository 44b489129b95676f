"""Serving: the one entry point front ends use (`answering.QAService`: question in, `Answer` out), and what keeps
it live: questions batched across callers (`batching`), the articles folder watched (`watch`), pages and uploads
added (`adding`)."""

from index.service.answering import Prepared, QAService, newest_first, sources

__all__ = ["Prepared", "QAService", "newest_first", "sources"]
