"""A Ferry connector in Python that keeps users in a JSON file, with a change journal for
delta imports, in the one folder its app grants (`[apps.NAME.files]`, seen as `/data`).

componentize-py builds it: `componentize-py -d wit -w plugin componentize connector -o
python-json.wasm`. It looks for the class `Connector` (the `describe` export) in the
module it is given and for `Session` (the session resource) in the module named after
the exported interface, `connector`: this one module holds both. `store.py` keeps the
files.

The semantics follow Ferry's generic SQL connector: the anchor (`id`) is generated once
and never changes; every change gets its own result and is written on its own, so a
failed change leaves the file as it was and does not stop the others; every write
returns the user as the file now holds it; the host's mistakes (unknown, read-only or
repeated attributes, wrong types, a second value for a single-valued attribute, a
missing `userName`) are `invalid-input` naming the attribute.
"""

from __future__ import annotations

import calendar
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

from componentize_py_types import Err, Ok, Result
from store import Failure, Store, User
from wit_world import exports
from wit_world.exports import connector
from wit_world.imports import log, types

#: The name apps give as `plugin = "python-json"`.
NAME = "python-json"
VERSION = "0.1.0"

#: The one object type.
USER = "user"

#: How full-import cursors are marked; bump the number when their meaning changes.
CURSOR_FORMAT = "python-json/1"

#: Where a user's password hash is kept in the users file (the password is never stored).
PASSWORD_HASH = "passwordHash"

#: PBKDF2-HMAC-SHA256 rounds for password hashes. hashlib has no pbkdf2_hmac in the
#: WASI build of CPython, so it is computed with hmac.digest (C code) below.
PASSWORD_ROUNDS = 100_000


@dataclass(frozen=True)
class Attr:
    """One attribute of the user type, as the schema declares it."""

    name: str
    value_type: types.ValueType
    multi_valued: bool = False
    required: bool = False
    read_only: bool = False
    secret: bool = False
    description: str | None = None

    def schema(self) -> types.AttributeSchema:
        """The attribute as the contract describes it."""
        return types.AttributeSchema(
            name=self.name,
            value_type=self.value_type,
            multi_valued=self.multi_valued,
            required=self.required,
            read_only=self.read_only,
            secret=self.secret,
            reference_types=[],
            description=self.description,
        )


STRING, BOOLEAN, DATETIME = (
    types.ValueType.STRING,
    types.ValueType.BOOLEAN,
    types.ValueType.DATETIME,
)

#: The user type's attributes. Most names are those Ferry's default SCIM mapping looks
#: for; `aliases` appears in SCIM under the target extension.
ATTRIBUTES: list[Attr] = [
    Attr("id", STRING, read_only=True, description="The anchor: generated, never changes."),
    Attr("userName", STRING, required=True, description="Unique, compared case-insensitively."),
    Attr("externalId", STRING),
    Attr("active", BOOLEAN),
    Attr("displayName", STRING),
    Attr("givenName", STRING),
    Attr("familyName", STRING),
    Attr("email", STRING),
    Attr("department", STRING),
    Attr("aliases", STRING, multi_valued=True, description="Other addresses of the user."),
    Attr("password", STRING, secret=True, description="Kept only as a salted PBKDF2 hash."),
    Attr("modified", DATETIME, read_only=True, description="When Ferry last wrote the user."),
]
BY_NAME: dict[str, Attr] = {attr.name: attr for attr in ATTRIBUTES}

#: An attribute's values as the contract carries them, by attribute name.
Values = dict[str, list[types.Value]]


def _error(failure: Failure) -> types.Error:
    kind = types.ErrorKind[failure.kind.upper().replace("-", "_")]
    return types.Error(kind=kind, message=failure.message, attribute=failure.attribute)


def _invalid(message: str, attribute: str | None = None) -> Failure:
    return Failure("invalid-input", message, attribute)


def _setting(settings: list[types.Setting], name: str) -> str:
    """A file-name setting (the host fills in defaults): one plain name in the folder."""
    for setting in settings:
        if setting.name == name and isinstance(setting.value, types.SettingValue_String):
            value = setting.value.value
            # Names starting with a dot are the connector's own (lock, temporary files).
            if not value or "/" in value or value.startswith("."):
                raise _invalid(
                    f"'{name}' must be a plain file name in the granted folder, not {value!r}"
                )
            return value
    raise _invalid(f"'{name}' is missing")


# ----- values between the file and the contract ------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _to_value(attr: Attr, stored: Any, anchor: str) -> types.Value:
    """One stored JSON value as a contract value of the attribute's type."""
    if attr.value_type == BOOLEAN and isinstance(stored, bool):
        return types.Value_Boolean(stored)
    if attr.value_type == STRING and isinstance(stored, str):
        return types.Value_String(stored)
    if attr.value_type == DATETIME and isinstance(stored, str):
        try:
            at = datetime.fromisoformat(stored)
        except ValueError:
            pass
        else:
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            seconds = calendar.timegm(at.utctimetuple())
            return types.Value_Datetime(types.Datetime(seconds, at.microsecond * 1000))
    raise Failure(
        "internal",
        f'user "{anchor}": "{attr.name}" holds {stored!r}, not a {attr.value_type.name.lower()}',
    )


def _from_value(value: types.Value) -> Any:
    """A contract value as stored JSON (only string and boolean attributes are written)."""
    return value.value


def _values_of(user: User) -> Values:
    """The user's readable attributes as contract values (never the password)."""
    values: Values = {}
    for attr in ATTRIBUTES:
        stored = user.get(attr.name)
        if attr.secret or stored is None:
            continue
        items = stored if isinstance(stored, list) else [stored]
        if items:
            values[attr.name] = [_to_value(attr, item, user["id"]) for item in items]
    return values


def _object(user: User) -> types.Object:
    values = _values_of(user)
    attributes = [types.Attribute(name, items) for name, items in values.items()]
    return types.Object(object_type=USER, anchor=user["id"], attributes=attributes)


def _value_type(value: types.Value) -> types.ValueType:
    return types.ValueType[type(value).__name__.removeprefix("Value_").upper()]


def _check_writable(name: str, values: list[types.Value]) -> Attr:
    """The attribute a change writes: it must exist, be writable, and get values of its
    type."""
    attr = BY_NAME.get(name)
    if attr is None:
        raise _invalid(f"object type '{USER}' has no attribute '{name}'", name)
    if attr.read_only:
        raise _invalid(f"attribute '{name}' of object type '{USER}' is read-only", name)
    if any(_value_type(value) != attr.value_type for value in values):
        raise _invalid(f"attribute '{name}' takes {attr.value_type.name.lower()} values", name)
    return attr


def _distinct(values: list[types.Value]) -> list[types.Value]:
    kept: list[types.Value] = []
    for value in values:
        if value not in kept:
            kept.append(value)
    return kept


def _apply(values: Values, change: types.AttributeChange) -> str:
    """Applies one attribute change the way the host does (each value kept once, in first
    order); returns the attribute's name."""
    if isinstance(change, types.AttributeChange_Clear):
        _check_writable(change.value, [])
        values.pop(change.value, None)
        return change.value
    name, given = change.value.name, change.value.values
    _check_writable(name, given)
    have = values.get(name, [])
    if isinstance(change, types.AttributeChange_Replace):
        have = _distinct(given)
    elif isinstance(change, types.AttributeChange_AddValues):
        have = _distinct(have + given)
    else:
        have = [value for value in have if value not in given]
    if have:
        values[name] = have
    else:
        values.pop(name, None)
    return name


def _hash_password(password: str) -> str:
    """A salted PBKDF2-HMAC-SHA256 hash (one 32-byte block, RFC 8018)."""
    key, salt = password.encode(), secrets.token_bytes(16)
    block = hmac.digest(key, salt + b"\x00\x00\x00\x01", "sha256")
    total = int.from_bytes(block)
    for _ in range(PASSWORD_ROUNDS - 1):
        block = hmac.digest(key, block, "sha256")
        total ^= int.from_bytes(block)
    return f"pbkdf2-sha256${PASSWORD_ROUNDS}${salt.hex()}${total.to_bytes(32).hex()}"


def _store_values(user: User, values: Values, touched: set[str]) -> None:
    """Writes the touched attributes' new values into the stored user, checking what the
    schema demands of the whole user. Keys this connector does not know stay as they are
    (another writer may keep more in the file); new ones are added in schema order."""
    for attr in [attr for attr in ATTRIBUTES if attr.name in touched]:
        name = attr.name
        items = values.get(name, [])
        if not attr.multi_valued and len(items) > 1:
            raise _invalid(
                f"attribute '{name}' is single-valued; {len(items)} values were given", name
            )
        if attr.secret:
            if items and isinstance(items[0], types.Value_String):
                user[PASSWORD_HASH] = _hash_password(items[0].value)
            else:
                user.pop(PASSWORD_HASH, None)
        elif not items:
            user.pop(name, None)
        elif attr.multi_valued:
            user[name] = [_from_value(value) for value in items]
        else:
            user[name] = _from_value(items[0])
    if not user.get("userName"):
        raise _invalid(f"attribute 'userName' of object type '{USER}' is required", "userName")


def _check_unique(users: list[User], user: User) -> None:
    name = user["userName"].casefold()
    for other in users:
        if other["id"] != user["id"] and other["userName"].casefold() == name:
            raise Failure("already-exists", f"a user named {user['userName']!r} exists", "userName")


def _find(users: list[User], target: types.ObjectRef) -> User:
    if target.object_type == USER:
        for user in users:
            if user["id"] == target.anchor:
                return user
    raise Failure(
        "not-found", f"object type '{target.object_type}' has no object '{target.anchor}'"
    )


# ----- the exports -----------------------------------------------------------------------


def _file_parameter(name: str, description: str, default: str) -> types.Parameter:
    return types.Parameter(
        name=name,
        description=description,
        parameter_type=types.ParameterType.STRING,
        required=False,
        secret=False,
        default=default,
    )


class Connector(exports.Connector):
    """`describe`: Ferry calls it when it loads the component, before any app is known,
    so it must not touch the folder."""

    def describe(self) -> types.ConnectorInfo:
        return types.ConnectorInfo(
            name=NAME,
            version=VERSION,
            description=(
                "Keeps users in a JSON file, with a change journal for delta imports, in "
                "the folder the app grants ([apps.NAME.files]). Written in Python."
            ),
            parameters=[
                _file_parameter(
                    "file", "The users file's name in the granted folder.", "users.json"
                ),
                _file_parameter(
                    "journal",
                    "The change journal's name in the granted folder (JSON lines with "
                    "sequence numbers; delta imports read it).",
                    "users.journal",
                ),
            ],
            features=types.Features(delta_import=True, groups=False, passwords=True, rename=True),
        )


class Session(connector.Session):
    """A session on one app's users file. It holds no state between calls but the file
    names: every call reads the files, so several pooled instances (and other writers)
    share one truth."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @classmethod
    def open(cls, settings: list[types.Setting]) -> Self:
        try:
            users, journal = _setting(settings, "file"), _setting(settings, "journal")
            if users == journal:
                raise _invalid("'file' and 'journal' must name different files")
        except Failure as failure:
            raise Err(_error(failure)) from None
        return cls(Store(users, journal))

    def test_connection(self) -> None:
        try:
            self.store.check()
        except Failure as failure:
            raise Err(_error(failure)) from None

    def schema(self) -> types.Schema:
        user = types.ObjectTypeSchema(
            name=USER,
            anchor_attributes=["id"],
            attributes=[attr.schema() for attr in ATTRIBUTES],
        )
        return types.Schema(object_types=[user])

    def full_import(self, cursor: str | None, page_size: int) -> types.ImportPage:
        try:
            if cursor is None:
                # Taken before the users are read: a change made during the import is
                # seen again by the first delta import.
                after, watermark = "", self.store.last_sequence()
            else:
                after, watermark = _decode_cursor(cursor)
            rest = [user for user in self.store.load() if user["id"] > after]
            page = rest[: max(page_size, 1)]
            objects = [_object(user) for user in page]
        except Failure as failure:
            raise Err(_error(failure)) from None
        if len(rest) > len(page):
            next_cursor = json.dumps(
                {"format": CURSOR_FORMAT, "after": page[-1]["id"], "watermark": watermark}
            )
            return types.ImportPage(objects=objects, next_cursor=next_cursor, watermark=None)
        return types.ImportPage(objects=objects, next_cursor=None, watermark=str(watermark))

    def delta_import(self, watermark: str, page_size: int) -> types.DeltaPage:
        try:
            if not watermark.isdigit():
                raise _invalid(f"the watermark {watermark!r} is not a journal sequence number")
            since = int(watermark)
            # The journal first, then the users: a journaled change is in the users file.
            journal = self.store.journal()
            last = journal[-1].sequence if journal else 0
            if last < since:
                raise _invalid(
                    f"the journal ends at {last}, before the watermark {since}: it was reset; "
                    "a full import starts over"
                )
            pending = [entry for entry in journal if entry.sequence > since]
            page = pending[: max(page_size, 1)]
            users = {user["id"]: user for user in self.store.load()}
            entries: list[types.DeltaEntry] = []
            for entry in page:
                user = users.get(entry.anchor)
                if user is None:
                    entries.append(types.DeltaEntry_Delete(types.ObjectRef(USER, entry.anchor)))
                else:
                    entries.append(types.DeltaEntry_Upsert(_object(user)))
        except Failure as failure:
            raise Err(_error(failure)) from None
        next_watermark = page[-1].sequence if page else since
        return types.DeltaPage(
            entries=entries, watermark=str(next_watermark), more=len(pending) > len(page)
        )

    def read(self, target: types.ObjectRef) -> types.Object | None:
        """One user as the file holds it now (contract 0.2.0; never called under 0.1.0)."""
        try:
            users = self.store.load()
        except Failure as failure:
            raise Err(_error(failure)) from None
        found = [user for user in users if user["id"] == target.anchor]
        return _object(found[0]) if found and target.object_type == USER else None

    def export(self, changes: list[types.Change]) -> list[Result[types.Object | None, types.Error]]:
        results: list[Result[types.Object | None, types.Error]] = []
        try:
            with self.store.locked():
                for change in changes:
                    results.append(self._apply(change))
        except Failure as failure:
            # The lock could not be taken: every change not yet made fails alike.
            results.extend(Err(_error(failure)) for _ in changes[len(results) :])
        return results

    def _apply(self, change: types.Change) -> Result[types.Object | None, types.Error]:
        """Makes one change under the lock, on the files as they are now."""
        try:
            users = self.store.load()
            if isinstance(change, types.Change_Add):
                user = _add(users, change.value)
                self.store.save([*users, user], [(user["id"], False)])
                return Ok(_object(user))
            if isinstance(change, types.Change_Delete):
                user = _find(users, change.value)
                self.store.save([u for u in users if u is not user], [(user["id"], True)])
                return Ok(None)
            if isinstance(change, types.Change_Update):
                user = _find(users, change.value.target)
                values = _values_of(user)
                touched = {_apply(values, item) for item in change.value.changes}
                _store_values(user, values, touched)
            else:
                user = _find(users, change.value.target)
                _store_values(
                    user, {"userName": [types.Value_String(change.value.new_name)]}, {"userName"}
                )
            _check_unique(users, user)
            user["modified"] = _now()
            self.store.save(users, [(user["id"], False)])
            return Ok(_object(user))
        except Failure as failure:
            return Err(_error(failure))
        except Exception as error:  # a bug: reported for this change, the others go on
            log.log(log.Level.ERROR, f"a change failed unexpectedly: {error!r}")
            return Err(types.Error(types.ErrorKind.INTERNAL, f"unexpected: {error!r}", None))


def _add(users: list[User], change: types.AddChange) -> User:
    """The new user an add change describes, checked against the schema and the others."""
    if change.object_type != USER:
        raise _invalid(f"there is no object type '{change.object_type}'")
    user: User = {"id": str(uuid.uuid4())}
    values: Values = {}
    for attribute in change.attributes:
        if attribute.name in values:
            raise _invalid(f"attribute '{attribute.name}' is given twice", attribute.name)
        _check_writable(attribute.name, attribute.values)
        values[attribute.name] = _distinct(attribute.values)
    _store_values(user, values, set(values))
    _check_unique(users, user)
    user["modified"] = _now()
    return user


def _decode_cursor(cursor: str) -> tuple[str, int]:
    """(the last id of the previous page, the import's watermark) from a cursor this
    connector wrote; anything else is `invalid-input`, so the host restarts the import."""
    try:
        decoded = json.loads(cursor)
        if (
            decoded["format"] == CURSOR_FORMAT
            and isinstance(decoded["after"], str)
            and isinstance(decoded["watermark"], int)
        ):
            return decoded["after"], decoded["watermark"]
    except (ValueError, TypeError, KeyError):
        pass
    raise _invalid("the cursor was not written by this connector (or by another version of it)")
