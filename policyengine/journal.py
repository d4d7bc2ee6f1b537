"""The apply journal: one JSON line as each request starts and as it ends, flushed to disk.

A second `apply` skips what the journal shows was accepted: the very same request (same
client token and parameters) sent to the same place (endpoint and region); anything else is
sent. After a crash (even `kill -9` between any two instructions) a re-run sends every other
request once more with the same client token, which the service treats as the same request.
A line cut short by a crash is ignored; one `apply` at a time may use a journal (a lock).
A write that fails (the disk full) leaves no half line, and stops the run from beginning any
other request (docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
from datetime import UTC, datetime
from typing import Any

from .errors import PolicyEngineError

DEFAULT_JOURNAL = os.path.join(".policyengine", "journal.jsonl")


def fingerprint(scope: str, request: dict[str, Any]) -> str:
    """What makes two sends the same request: where it goes and every parameter, token included."""
    body = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{scope}\n{body}".encode()).hexdigest()


class Journal:
    """An append-only JSON-lines journal, safe to use from several threads, locked against other runs.

    Each record is written whole or not at all: a write that fails (a full disk, a file size
    limit, an I/O error) is cut back off the file, so no half line is left behind. After the
    first failure, ``failure`` says what happened and ``start`` records are refused: nothing new
    is begun whose outcome might not be recorded. ``end`` records are still tried.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.accepted: dict[str, dict[str, Any]] = {}  # request fingerprint -> its `end` record
        self.failure: str | None = None  # the first write that failed: the file and the OS error
        self._fd: int | None = None
        self._mid_line = False  # a failed write could not be cut back: the file may end inside a line

    def open(self) -> None:
        """Open for appending (before anything is sent), take the lock, and read what is there."""
        directory = os.path.dirname(self.path)
        try:
            if directory:
                os.makedirs(directory, exist_ok=True)
            if os.path.exists(self.path) and not stat.S_ISREG(os.stat(self.path).st_mode):
                raise PolicyEngineError(f"the journal {self.path} is not a regular file")
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            raise PolicyEngineError(f"cannot write the journal {self.path}: {exc.strerror or exc}") from exc
        try:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # no fcntl on this platform: no lock
            pass
        except OSError as exc:
            self._close()
            raise PolicyEngineError(f"another `apply` is using the journal {self.path}; wait for it to end") from exc
        try:
            self._read()
        except PolicyEngineError:
            self._close()
            raise

    def _read(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise PolicyEngineError(f"cannot read the journal {self.path}: {exc.strerror or exc}") from exc
        for raw in data.split(b"\n"):
            try:
                record = json.loads(raw.decode("utf-8", errors="replace"))
            except (ValueError, RecursionError):
                continue  # an empty line, one cut short by a crash, or one that is not ours
            if isinstance(record, dict) and record.get("event") == "end" and record.get("outcome") == "accepted":
                self.accepted[str(record.get("fingerprint"))] = record
        if data and not data.endswith(b"\n"):
            self._append(b"\n")  # a line cut short stays on a line of its own

    def write(self, event: str, **fields: Any) -> None:
        """Append one record and make sure it is on disk before returning (else PolicyEngineError)."""
        record = {"event": event, "time": datetime.now(UTC).isoformat(timespec="milliseconds"), **fields}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str) + "\n"
        with self._lock:
            if self._fd is None:
                self.open()
            if self.failure is not None and event == "start":
                raise PolicyEngineError(self.failure)
            self._append(line.encode("utf-8"))
            if event == "end" and fields.get("outcome") == "accepted":
                self.accepted[str(fields.get("fingerprint"))] = record

    def _append(self, data: bytes) -> None:
        """Write ``data`` at the end and fsync it; on failure, cut the file back to where it was."""
        fd = self._fd
        assert fd is not None
        mid_line = self._mid_line
        if mid_line:
            data = b"\n" + data
        size = None
        try:
            size = os.fstat(fd).st_size
            view = memoryview(data)
            while view:  # a short write (a size limit reached) is followed by one that fails
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            message = f"cannot write the journal {self.path}: {exc.strerror or exc}"
            self.failure = self.failure or message
            try:
                if size is not None:
                    os.ftruncate(fd, size)  # no half line: the record is not there at all
                    self._mid_line = mid_line
            except OSError:
                self._mid_line = True  # the next record starts on a line of its own
            raise PolicyEngineError(message) from exc
        self._mid_line = False

    def close(self) -> None:
        """Close the file (and so release the lock)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):  # nothing is buffered: there is nothing left to lose
                os.close(self._fd)
            self._fd = None
