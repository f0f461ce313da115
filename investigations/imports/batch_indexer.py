"""BatchIndexer: hands an import's committed batches to the search index on a thread of its own."""
import queue
import threading

from ..extensions import db
from ..search.sync import process_queue
from .report import ImportReport


class BatchIndexer:
    """Feeds committed batches to the search index (process_queue) on a thread of its own, while the
    next batch is read and inserted; at most QUEUED_BATCHES wait, so a slow index slows the import
    instead of filling memory. What the index does not take stays in search_queue."""

    QUEUED_BATCHES = 2

    def __init__(self, app, report: ImportReport):
        self.report = report
        self.batches: queue.Queue = queue.Queue(maxsize=self.QUEUED_BATCHES)
        self.thread = threading.Thread(target=self._work, args=(app,), name="import-indexer", daemon=True)
        self.thread.start()

    def submit(self, ids: list[int]) -> None:
        if not self.thread.is_alive():
            raise RuntimeError("The import's search indexer stopped.")
        self.batches.put(ids)

    def close(self) -> None:
        """Wait for the batches handed over so far to be indexed."""
        self.batches.put(None)
        self.thread.join()

    def _work(self, app) -> None:
        with app.app_context():
            try:
                while (ids := self.batches.get()) is not None:
                    done = 0
                    try:
                        done = process_queue(only=set(ids), limit=len(ids))
                    except Exception:  # the batch is committed; the queue keeps what the index did not take
                        app.logger.warning("Search index update during an import failed", exc_info=True)
                    self.report.index_pending += len(ids) - done
            finally:
                db.session.remove()
