"""A Ferry connector in Python that keeps users in memory: a starting point. It builds,
passes `ferry plugins inspect` and serves SCIM as it is; replace the dictionary with
calls to your target.

Build: `componentize-py -d FERRY/wit -w plugin componentize connector -o my-connector.wasm`.
componentize-py takes `Connector` (the `describe` export) from the module it is given
and `Session` (the session resource) from the module named after the exported
interface, `connector`: this one file is both.

What is kept in memory lives as long as the session's instance, and each pooled
instance has its own: for trying Ferry out, not for production.
"""

from __future__ import annotations

import json
from typing import Self

from componentize_py_types import Err, Ok, Result
from wit_world import exports
from wit_world.exports import connector
from wit_world.imports import types

#: The name apps give as `plugin = "..."`: change it for your connector.
NAME = "python-template"
VERSION = "0.1.0"

STRING, BOOLEAN = types.ValueType.STRING, types.ValueType.BOOLEAN

#: The user type's attributes: (name, type, required, read-only). These names are the
#: ones Ferry's default SCIM mapping looks for.
ATTRIBUTES = [
    ("id", STRING, False, True),
    ("userName", STRING, True, False),
    ("displayName", STRING, False, False),
    ("mail", STRING, False, False),
    ("active", BOOLEAN, False, False),
]


class Failure(Exception):
    """A refused call or change: the contract's error, raised and caught below."""

    def __init__(self, kind: types.ErrorKind, message: str, attribute: str | None = None):
        super().__init__(message)
        self.error = types.Error(kind=kind, message=message, attribute=attribute)


class Connector(exports.Connector):
    """`describe`, called when Ferry loads the file: it must not touch the target."""

    def describe(self) -> types.ConnectorInfo:
        prefix = types.Parameter(
            name="id-prefix",
            description="What the id of every new user starts with.",
            parameter_type=types.ParameterType.STRING,
            required=False,
            secret=False,
            default="user-",
        )
        return types.ConnectorInfo(
            name=NAME,
            version=VERSION,
            description="Keeps users in memory (a template to start a Python connector from).",
            parameters=[prefix],
            features=types.Features(
                delta_import=False, groups=False, passwords=False, rename=False
            ),
        )


class Session(connector.Session):
    """One app's session: its settings and the users it keeps, by id."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.users: dict[str, dict[str, list[types.Value]]] = {}
        self.made = 0

    @classmethod
    def open(cls, settings: list[types.Setting]) -> Self:
        # The host checked the settings against `describe` and filled in defaults.
        values = {setting.name: setting.value.value for setting in settings}
        return cls(str(values["id-prefix"]))

    def test_connection(self) -> None:
        pass  # memory is always there; a real connector reaches its target here

    def schema(self) -> types.Schema:
        attributes = [
            types.AttributeSchema(name, value_type, False, required, read_only, False, [], None)
            for name, value_type, required, read_only in ATTRIBUTES
        ]
        return types.Schema([types.ObjectTypeSchema("user", ["id"], attributes)])

    def full_import(self, cursor: str | None, page_size: int) -> types.ImportPage:
        after = ""
        if cursor is not None:
            try:
                after = json.loads(cursor)["after"]
            except (ValueError, TypeError, KeyError):
                # Refused as invalid-input, the host starts the import over.
                raise Err(
                    types.Error(types.ErrorKind.INVALID_INPUT, "not a cursor of mine", None)
                ) from None
        rest = sorted(id for id in self.users if id > after)
        page = rest[: max(page_size, 1)]
        more = len(rest) > len(page)
        next_cursor = json.dumps({"after": page[-1]}) if more else None
        return types.ImportPage([self._object(id) for id in page], next_cursor, None)

    def delta_import(self, watermark: str, page_size: int) -> types.DeltaPage:
        raise Err(types.Error(types.ErrorKind.UNSUPPORTED, "no delta imports", None))

    def read(self, target: types.ObjectRef) -> types.Object | None:
        # One object as the target has it now; None if there is none.
        if target.object_type != "user" or target.anchor not in self.users:
            return None
        return self._object(target.anchor)

    def export(self, changes: list[types.Change]) -> list[Result[types.Object | None, types.Error]]:
        # One result per change, in order; a refused change does not stop the others.
        results: list[Result[types.Object | None, types.Error]] = []
        for change in changes:
            try:
                results.append(Ok(self._apply(change)))
            except Failure as failure:
                results.append(Err(failure.error))
        return results

    def _apply(self, change: types.Change) -> types.Object | None:
        if isinstance(change, types.Change_Add):
            attributes = {a.name: a.values for a in change.value.attributes if a.values}
            self._check(attributes, anchor=None)
            self.made += 1
            anchor = f"{self.prefix}{self.made}"
            self.users[anchor] = attributes
            return self._object(anchor)
        if isinstance(change, types.Change_Update):
            anchor = self._existing(change.value.target)
            attributes = dict(self.users[anchor])
            for edit in change.value.changes:
                if isinstance(edit, types.AttributeChange_Clear):
                    attributes.pop(edit.value, None)
                    continue
                name, values = edit.value.name, edit.value.values
                have = attributes.get(name, [])
                if isinstance(edit, types.AttributeChange_Replace):
                    have = list(values)
                elif isinstance(edit, types.AttributeChange_AddValues):
                    have = have + [v for v in values if v not in have]
                else:
                    have = [v for v in have if v not in values]
                attributes[name] = have
            attributes = {name: values for name, values in attributes.items() if values}
            self._check(attributes, anchor)
            self.users[anchor] = attributes
            return self._object(anchor)
        if isinstance(change, types.Change_Delete):
            del self.users[self._existing(change.value)]
            return None
        raise Failure(types.ErrorKind.UNSUPPORTED, "this connector does not rename users")

    def _check(self, attributes: dict[str, list[types.Value]], anchor: str | None) -> None:
        """Refuses what the schema does not allow, naming the attribute."""
        schema = {name: (value_type, read_only) for name, value_type, _, read_only in ATTRIBUTES}
        for name, values in attributes.items():
            if name not in schema or schema[name][1]:
                raise Failure(types.ErrorKind.INVALID_INPUT, f"'{name}' cannot be written", name)
            if len(values) > 1:
                raise Failure(types.ErrorKind.INVALID_INPUT, f"'{name}' takes one value", name)
            wanted = types.Value_Boolean if schema[name][0] == BOOLEAN else types.Value_String
            if not isinstance(values[0], wanted):
                raise Failure(types.ErrorKind.INVALID_INPUT, f"'{name}' has the wrong type", name)
        if "userName" not in attributes:
            raise Failure(types.ErrorKind.INVALID_INPUT, "'userName' is required", "userName")
        user_name = attributes["userName"][0]
        others = (other for id, other in self.users.items() if id != anchor)
        if any(other.get("userName") == [user_name] for other in others):
            raise Failure(
                types.ErrorKind.ALREADY_EXISTS,
                f"a user named {user_name.value!r} exists",
                "userName",
            )

    def _existing(self, target: types.ObjectRef) -> str:
        if target.object_type != "user" or target.anchor not in self.users:
            raise Failure(types.ErrorKind.NOT_FOUND, f"there is no user '{target.anchor}'")
        return target.anchor

    def _object(self, anchor: str) -> types.Object:
        attributes = [types.Attribute("id", [types.Value_String(anchor)])]
        attributes += [types.Attribute(name, values) for name, values in self.users[anchor].items()]
        return types.Object("user", anchor, attributes)
