"""Notice data that MLflow's asynchronous logging could not write.

Inside a tracked run ``mlflow.log_*`` calls are queued and written in batches (see run.py). When
the store refuses a batch (a param logged again with another value, say), MLflow only logs an
error from its background thread, and everything merged into that batch is gone (metrics are
batched separately, by `tracking.batching`, and survive). A run must not
then end FINISHED as if nothing happened: `RefusedData` collects those errors for one run, so the
run can end FAILED with the reason in ``error.txt`` and the user be told.
"""

from __future__ import annotations

import logging

from mlflow.utils.async_logging import async_logging_queue

# MLflow reports a refused batch on the queue module's logger, naming the run.
_QUEUE_LOGGER = logging.getLogger(async_logging_queue.__name__)


class RefusedData(logging.Handler):
    """Collects the refused-batch errors MLflow reports for ``run_id`` while attached."""

    def __init__(self, run_id: str) -> None:
        super().__init__(level=logging.ERROR)
        self.run_id = run_id
        self.messages: list[str] = []
        self._saved_level = logging.NOTSET

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.run_id in message:
            self.messages.append(message.split(": Exception: ", 1)[-1])

    def __enter__(self) -> RefusedData:
        # Importing FLAML sets the "mlflow.utils" logger to CRITICAL, which would silence the
        # queue's ERROR records before any handler sees them: hear them anyway while attached.
        self._saved_level = _QUEUE_LOGGER.level
        if _QUEUE_LOGGER.getEffectiveLevel() > logging.ERROR:
            _QUEUE_LOGGER.setLevel(logging.ERROR)
        _QUEUE_LOGGER.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _QUEUE_LOGGER.removeHandler(self)
        _QUEUE_LOGGER.setLevel(self._saved_level)

    def summary(self) -> str | None:
        """One paragraph for the user, or None if nothing was refused."""
        if not self.messages:
            return None
        reasons = "; ".join(dict.fromkeys(self.messages))
        return (
            f"MLflow refused data this run logged ({reasons}). Params and tags logged inside a "
            "tracked run are written in batches, so others logged about the same time are "
            "missing too."
        )
