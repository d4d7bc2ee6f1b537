"""The apply journal: one JSON line as each request starts and as it ends, flushed to disk.

A second `apply` skips what the journal shows was accepted: the very same request (same
client token and parameters) sent to the same place (endpoint and region); anything else is
sent. After a crash (even `kill -9` between any two instructions) a re-run sends every other
request once more with the same client token, which the service treats as the same request.
A line cut short by a crash is ignored; one `apply` at a time may use a journal (a lock).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from datetime import UTC, datetime
from typing import IO, Any

from .errors import PolicyEngineError

DEFAULT_JOURNAL = os.path.join(".policyengine", "journal.jsonl")


def fingerprint(scope: str, request: dict[str, Any]) -> str:
    """What makes two sends the same request: where it goes and every parameter, token included."""
    body = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{scope}\n{body}".encode()).hexdigest()


class Journal:
    """An append-only JSON-lines journal, safe to use from several threads, locked against other runs."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.accepted: dict[str, dict[str, Any]] = {}  # request fingerprint -> its `end` record
        self._file: IO[str] | None = None

    def open(self) -> None:
        """Open for appending (before anything is sent), take the lock, and read what is there."""
        directory = os.path.dirname(self.path)
        try:
            if directory:
                os.makedirs(directory, exist_ok=True)
            if os.path.exists(self.path) and not stat.S_ISREG(os.stat(self.path).st_mode):
                raise PolicyEngineError(f"the journal {self.path} is not a regular file")
            self._file = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        except OSError as exc:
            raise PolicyEngineError(f"cannot write the journal {self.path}: {exc.strerror or exc}") from exc
        try:
            import fcntl

            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # no fcntl on this platform: no lock
            pass
        except OSError as exc:
            self.close()
            raise PolicyEngineError(f"another `apply` is using the journal {self.path}; wait for it to end") from exc
        self._read()

    def _read(self) -> None:
        with open(self.path, "rb") as fh:
            data = fh.read()
        for raw in data.split(b"\n"):
            try:
                record = json.loads(raw.decode("utf-8", errors="replace"))
            except ValueError:
                continue  # an empty line, or one cut short by a crash
            if isinstance(record, dict) and record.get("event") == "end" and record.get("outcome") == "accepted":
                self.accepted[str(record.get("fingerprint"))] = record
        if data and not data.endswith(b"\n") and self._file is not None:
            self._file.write("\n")  # a line cut short stays on a line of its own
            self._file.flush()

    def write(self, event: str, **fields: Any) -> None:
        """Append one record and make sure it is on disk before returning."""
        record = {"event": event, "time": datetime.now(UTC).isoformat(timespec="milliseconds"), **fields}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str) + "\n"
        with self._lock:
            if self._file is None:
                self.open()
            assert self._file is not None
            try:
                self._file.write(line)
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as exc:
                raise PolicyEngineError(f"cannot write the journal {self.path}: {exc.strerror or exc}") from exc
            if event == "end" and fields.get("outcome") == "accepted":
                self.accepted[str(fields.get("fingerprint"))] = record

    def close(self) -> None:
        """Close the file (and so release the lock)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
