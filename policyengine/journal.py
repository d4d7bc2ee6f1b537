"""The apply journal: one JSON line as each request starts and as it ends, flushed to disk.

A second `apply` skips what the journal shows was accepted; after a crash (even `kill -9`
between any two instructions) a re-run sends every other request once more with the same
client token, which the service treats as the same request. A line cut short by a crash is
ignored.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from typing import IO, Any

from .errors import PolicyEngineError

DEFAULT_JOURNAL = os.path.join(".policyengine", "journal.jsonl")


class Journal:
    """An append-only JSON-lines journal, safe to use from several threads."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.accepted: dict[str, dict[str, Any]] = {}  # client token -> its `end` record
        self._read()
        self._file: IO[str] | None = None

    def _read(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                lines = fh.read().split("\n")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise PolicyEngineError(f"cannot read the journal {self.path}: {exc.strerror or exc}") from exc
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # an empty line, or one cut short by a crash
            if isinstance(record, dict) and record.get("event") == "end" and record.get("outcome") == "accepted":
                self.accepted[str(record.get("clientToken"))] = record

    def _open(self) -> IO[str]:
        if self._file is None:
            directory = os.path.dirname(self.path)
            try:
                if directory:
                    os.makedirs(directory, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
            except OSError as exc:
                raise PolicyEngineError(f"cannot write the journal {self.path}: {exc.strerror or exc}") from exc
        return self._file

    def write(self, event: str, **fields: Any) -> None:
        """Append one record and make sure it is on disk before returning."""
        record = {"event": event, "time": datetime.now(UTC).isoformat(timespec="milliseconds"), **fields}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock:
            fh = self._open()
            try:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            except OSError as exc:
                raise PolicyEngineError(f"cannot write the journal {self.path}: {exc.strerror or exc}") from exc
            if event == "end" and fields.get("outcome") == "accepted":
                self.accepted[str(fields.get("clientToken"))] = record

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
