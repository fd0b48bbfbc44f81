"""The users file and its change journal, in the one folder the app grants (`/data`).

Nothing here knows the Ferry contract: users are plain JSON objects, failures carry the
name of the contract's error kind, so this module reads the same under CPython on a
workstation as inside the component.

Files (names from the connector's settings):

* the users file, e.g. `users.json`: `{"users": [{"id": "...", "userName": "...", ...}]}`,
  one JSON object per user holding its attributes by name;
* the journal, e.g. `users.journal`: one JSON object per line, `{"seq": 7, "id": "...",
  "op": "upsert"}` or `"op": "delete"`, sequence numbers strictly increasing. A delta import
  reports every user named after its watermark with the user's state *now*, so an entry
  says only "look at this user again".

Rules that keep the files whole and consistent:

* Every write goes to a temporary file in the same folder, is flushed to disk, and is
  renamed over the old file: a reader (or a crash) sees the old file or the new one, never
  half of one.
* Writers take the lock file (`.<users file>.lock`, created exclusively), so two writers
  (two pooled instances of the connector, or another program that follows the same rule)
  never interleave a read-modify-write. Readers take no lock.
* A write replaces the users file first and the journal second, and readers read the
  journal first and the users file second: whatever journal entry a reader sees, the users
  file it reads afterwards already holds that change.
* The journal keeps the latest entry of each user only (older ones cannot matter: a delta
  reports a user's current state), so it grows with the number of users, not of changes.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: Where the granted folder appears inside the component.
FOLDER = "/data"

#: One user as stored: attribute name -> JSON value, with "id" (the anchor) and "userName".
User = dict[str, Any]

#: How long a writer waits for the lock before the change fails as retryable.
LOCK_WAIT_SECONDS = 10.0

#: A lock older than this was left by a writer that died (an instance that trapped or hit
#: its CPU limit mid-write); it is broken.
LOCK_STALE_SECONDS = 60.0


class Failure(Exception):
    """A failure with the contract's error kind (`invalid-input`, `unavailable`, ...) and,
    when there is one, the attribute it is about."""

    def __init__(self, kind: str, message: str, attribute: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.attribute = attribute


@dataclass(frozen=True)
class JournalEntry:
    """One line of the journal: user `anchor` changed (or was deleted) at `sequence`."""

    sequence: int
    anchor: str
    deleted: bool

    def to_json(self) -> str:
        """The entry as one journal line, without the newline."""
        op = "delete" if self.deleted else "upsert"
        return json.dumps({"seq": self.sequence, "id": self.anchor, "op": op})


def _os_failure(doing: str, error: OSError) -> Failure:
    """An operating-system error as the failure the host can act on: a refused write is
    `permission-denied` (a read-only grant), a full disk or a vanished folder is
    `unavailable` (retry later), anything else `internal`."""
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        kind = "permission-denied"
    elif error.errno in (errno.ENOSPC, errno.ENOENT, errno.EDQUOT, errno.EIO):
        kind = "unavailable"
    else:
        kind = "internal"
    return Failure(kind, f"{doing}: {error.strerror or error}")


class Store:
    """The users file and journal of one app, in the granted folder."""

    def __init__(self, users_file: str, journal_file: str, folder: str = FOLDER) -> None:
        self.folder = folder
        self.users_path = os.path.join(folder, users_file)
        self.journal_path = os.path.join(folder, journal_file)
        self.lock_path = os.path.join(folder, f".{users_file}.lock")

    # ----- reading -------------------------------------------------------------------

    def check(self) -> None:
        """Checks the folder is granted, the files (if any) are readable and valid, and the
        folder is writable; fails with a message that says what to fix."""
        if not os.path.isdir(self.folder):
            raise Failure(
                "unavailable",
                f"no folder is granted to this connector ({self.folder} does not exist): "
                'give the app one with [apps.NAME.files] dir = "..."',
            )
        self.load()
        self.journal()
        probe = os.path.join(self.folder, f".probe-{secrets.token_hex(6)}.tmp")
        try:
            with open(probe, "w", encoding="utf-8") as file:
                file.write("probe")
            os.remove(probe)
        except OSError as error:
            raise _os_failure(
                f"the folder {self.folder} is not writable (is it granted read-only?)", error
            ) from error

    def load(self) -> list[User]:
        """Every user in the users file, sorted by id; none when the file does not exist
        yet. A file that is not what this connector writes is an `internal` failure
        naming the file and the entry."""
        text = self._read(self.users_path)
        if text is None:
            return []
        name = os.path.basename(self.users_path)
        try:
            document = json.loads(text)
        except ValueError as error:
            raise Failure("internal", f"{name} is not valid JSON: {error}") from error
        users = document.get("users") if isinstance(document, dict) else None
        if not isinstance(users, list):
            raise Failure("internal", f'{name} must be an object with a "users" list')
        seen: set[str] = set()
        for position, user in enumerate(users):
            if not isinstance(user, dict):
                raise Failure("internal", f"{name}: users[{position}] is not an object")
            anchor = user.get("id")
            if not isinstance(anchor, str) or not anchor:
                raise Failure("internal", f'{name}: users[{position}] has no "id" string')
            if not isinstance(user.get("userName"), str):
                raise Failure("internal", f'{name}: user "{anchor}" has no "userName" string')
            if anchor in seen:
                raise Failure("internal", f'{name}: the id "{anchor}" is used twice')
            seen.add(anchor)
        return sorted(users, key=lambda user: user["id"])

    def journal(self) -> list[JournalEntry]:
        """The journal's entries in sequence order; none when there is no journal yet."""
        text = self._read(self.journal_path)
        if text is None:
            return []
        name = os.path.basename(self.journal_path)
        entries: list[JournalEntry] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                sequence, anchor, op = item["seq"], item["id"], item["op"]
            except (ValueError, TypeError, KeyError) as error:
                raise Failure(
                    "internal",
                    f'{name} line {number}: not {{"seq": N, "id": "...", "op": "upsert"|"delete"}}',
                ) from error
            valid = (
                isinstance(sequence, int)
                and not isinstance(sequence, bool)
                and isinstance(anchor, str)
                and op in ("upsert", "delete")
            )
            if not valid:
                raise Failure("internal", f"{name} line {number}: a wrong seq, id or op")
            if entries and sequence <= entries[-1].sequence:
                raise Failure("internal", f"{name} line {number}: sequence numbers must increase")
            entries.append(JournalEntry(sequence, anchor, op == "delete"))
        return entries

    def last_sequence(self) -> int:
        """The journal's highest sequence number; 0 for an empty journal."""
        entries = self.journal()
        return entries[-1].sequence if entries else 0

    def _read(self, path: str) -> str | None:
        try:
            with open(path, encoding="utf-8") as file:
                return file.read()
        except FileNotFoundError:
            if not os.path.isdir(self.folder):
                raise Failure(
                    "unavailable", f"the folder {self.folder} is not granted or is gone"
                ) from None
            return None
        except OSError as error:
            raise _os_failure(f"reading {os.path.basename(path)}", error) from error

    # ----- writing -------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Holds the writers' lock for the body: created exclusively, removed after. Waits
        up to `LOCK_WAIT_SECONDS` (then `unavailable`: the IdP retries), and breaks a lock
        older than `LOCK_STALE_SECONDS`."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                descriptor = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.close(descriptor)
                break
            except FileExistsError:
                self._break_if_stale()
            except OSError as error:
                raise _os_failure("taking the write lock", error) from error
            if time.monotonic() > deadline:
                raise Failure(
                    "unavailable",
                    f"another writer has held {os.path.basename(self.lock_path)} for "
                    f"{LOCK_WAIT_SECONDS:.0f} s",
                )
            time.sleep(0.02)
        try:
            yield
        finally:
            try:
                os.remove(self.lock_path)
            except FileNotFoundError:
                pass

    def _break_if_stale(self) -> None:
        try:
            age = time.time() - os.stat(self.lock_path).st_mtime
            if age > LOCK_STALE_SECONDS:
                os.remove(self.lock_path)
        except FileNotFoundError:
            pass  # released meanwhile: the next attempt takes it

    def save(self, users: list[User], changed: list[tuple[str, bool]]) -> None:
        """Writes `users` and journals `changed` ((anchor, deleted) pairs) under new
        sequence numbers. Call with the lock held, with `users` as loaded under it."""
        journal = self.journal()
        sequence = journal[-1].sequence if journal else 0
        fresh: dict[str, JournalEntry] = {}
        for anchor, deleted in changed:
            sequence += 1
            fresh[anchor] = JournalEntry(sequence, anchor, deleted)
        kept = [entry for entry in journal if entry.anchor not in fresh]
        entries = sorted([*kept, *fresh.values()], key=lambda entry: entry.sequence)
        document = {"users": sorted(users, key=lambda user: user["id"])}
        self._replace(self.users_path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        self._replace(self.journal_path, "".join(entry.to_json() + "\n" for entry in entries))

    def _replace(self, path: str, text: str) -> None:
        """Writes `text` to a temporary file beside `path`, flushes it to disk and renames
        it over `path`: the file is either wholly old or wholly new."""
        name = os.path.basename(path)
        temporary = os.path.join(self.folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except OSError as error:
            try:
                os.remove(temporary)
            except OSError:
                pass
            raise _os_failure(f"writing {name}", error) from error
