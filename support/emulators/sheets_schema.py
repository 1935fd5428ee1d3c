"""Check Sheets API requests against Google's own description of the API, as Google does.

The Sheets v4 discovery document ships with google-api-python-client
(`googleapiclient/discovery_cache/documents/sheets.v4.json`): every method's query parameters
(with their enum values) and every request body's schema (fields, types, enums, nested
messages). `Discovery` refuses what Google refuses — unknown query parameters, unknown fields
anywhere in a body, wrong enum values, wrong types, bad `fields` masks — with Google's messages
and error shape (`INVALID_ARGUMENT`, `google.rpc.BadRequest` field violations), so a regression
in a request body fails the tests instead of the first real use.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

# Bodies Google binds to a field of the request message: error paths start with its name.
BODY_FIELD = {"values_update": "data", "values_append": "data"}

# Emulator request kind → discovery method id.
METHODS = {
    "get_metadata": "sheets.spreadsheets.get",
    "batch_update": "sheets.spreadsheets.batchUpdate",
    "values_get": "sheets.spreadsheets.values.get",
    "values_update": "sheets.spreadsheets.values.update",
    "values_append": "sheets.spreadsheets.values.append",
    "values_clear": "sheets.spreadsheets.values.clear",
    "values_batch_get": "sheets.spreadsheets.values.batchGet",
    "values_batch_update": "sheets.spreadsheets.values.batchUpdate",
    "values_batch_clear": "sheets.spreadsheets.values.batchClear",
}


class Invalid(Exception):
    """A request Google answers with 400 INVALID_ARGUMENT."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def violations(self) -> list[dict[str, str]]:
        if self.field is None:
            return []
        return [{"field": self.field, "description": self.message}]


def discovery_path() -> Path:
    import googleapiclient

    return (Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
            / "sheets.v4.json")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _camel_type(name: str) -> str:
    return name[:1].upper() + name[1:]


class Discovery:
    """The Sheets v4 discovery document, as a validator."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = document["schemas"]
        self.global_parameters: dict[str, Any] = document["parameters"]
        self.methods: dict[str, Any] = {}
        self._collect(document.get("resources", {}))

    def _collect(self, resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                self.methods[method["id"]] = method
            self._collect(resource.get("resources", {}))

    # -- query parameters ------------------------------------------------------------------

    def check_query(self, kind: str, query: dict[str, list[str]]) -> None:
        method = self.methods[METHODS[kind]]
        parameters = {**self.global_parameters, **method.get("parameters", {})}
        for name, values in query.items():
            spec = parameters.get(name)
            if spec is None or spec.get("location") == "path":
                raise Invalid(
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message.",
                    name,
                )
            if len(values) > 1 and not spec.get("repeated"):
                raise Invalid(f"Invalid value at '{_snake(name)}': repeated", name)
            for value in values:
                self._check_parameter(name, spec, value)
        fields = query.get("fields")
        if fields:
            response = method.get("response", {}).get("$ref")
            if response:
                self.check_mask(response, fields[-1], selection=True)

    def _check_parameter(self, name: str, spec: dict[str, Any], value: str) -> None:
        if "enum" in spec and value not in spec["enum"]:
            raise Invalid(
                f"Invalid value at '{_snake(name)}' (type.googleapis.com/google.apps.sheets.v4."
                f'{_camel_type(name)}), "{value}"', _snake(name),
            )
        # Google reads booleans in any case: gspread sends « False » (recorded exchanges).
        if spec.get("type") == "boolean" and value.lower() not in ("true", "false"):
            raise Invalid(f"Invalid value at '{_snake(name)}' (TYPE_BOOL), \"{value}\"",
                          _snake(name))
        if spec.get("type") == "integer" and not re.fullmatch(r"-?\d+", value):
            raise Invalid(f"Invalid value at '{_snake(name)}' (TYPE_INT32), \"{value}\"",
                          _snake(name))

    # -- bodies ----------------------------------------------------------------------------

    def check_body(self, kind: str, body: Any) -> None:
        request = self.methods[METHODS[kind]].get("request")
        if request is None or body is None:
            return
        self._value(body, {"$ref": request["$ref"]}, BODY_FIELD.get(kind, ""))

    def _value(self, value: Any, spec: dict[str, Any], path: str) -> None:
        if value is None:  # JSON null: the field's default, accepted everywhere
            return
        if "$ref" in spec:
            self._message(value, self.schemas[spec["$ref"]], path)
            return
        kind = spec.get("type")
        if kind == "any":
            return
        if kind == "array":
            if not isinstance(value, list):
                raise Invalid(self._invalid(path, "type.googleapis.com/google.protobuf.ListValue",
                                            value), path)
            for index, item in enumerate(value):
                self._value(item, spec.get("items", {}), f"{path}[{index}]")
            return
        if kind == "object":
            if not isinstance(value, dict):
                raise Invalid(self._invalid(path, "TYPE_MESSAGE", value), path)
            if "properties" in spec:
                self._message(value, spec, path)
            elif "additionalProperties" in spec:
                for key, item in value.items():
                    self._value(item, spec["additionalProperties"], f"{path}[{key}]")
            return
        if kind == "string":
            if not isinstance(value, str):
                raise Invalid(self._invalid(path, "TYPE_STRING", value), path)
            if "enum" in spec and value not in spec["enum"]:
                leaf = path.rsplit(".", 1)[-1]
                type_name = f"type.googleapis.com/google.apps.sheets.v4.{_camel_type(leaf)}"
                raise Invalid(self._invalid(path, type_name, value), path)
            return
        if kind == "integer":
            ok = (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None)
            if not ok:
                raise Invalid(self._invalid(path, "TYPE_INT32", value), path)
            return
        if kind == "number":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok:
                raise Invalid(self._invalid(path, "TYPE_DOUBLE", value), path)
            return
        if kind == "boolean" and not isinstance(value, bool):
            raise Invalid(self._invalid(path, "TYPE_BOOL", value), path)

    def _message(self, value: Any, schema: dict[str, Any], path: str) -> None:
        if not isinstance(value, dict):
            raise Invalid(self._invalid(path, f"type.googleapis.com/google.apps.sheets.v4."
                                              f"{schema.get('id', 'Message')}", value), path)
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key not in properties:
                where = f" at '{path}'" if path else ""
                raise Invalid(
                    f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find '
                    "field.", path or None,
                )
            child = f"{path}.{_snake(key)}" if path else _snake(key)
            self._value(item, properties[key], child)

    @staticmethod
    def _invalid(path: str, type_name: str, value: Any) -> str:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return f"Invalid value at '{path}' ({type_name}), \"{shown}\"" if isinstance(
            value, str) else f"Invalid value at '{path}' ({type_name}), {shown}"

    # -- field masks -----------------------------------------------------------------------

    def check_mask(self, schema_name: str, mask: str, *, selection: bool = False) -> None:
        """A `fields` mask (`a.b,c`) or, with `selection`, a partial-response selection
        (`a/b,c(d,e)`): every name must be a field of the schema it applies to."""
        for item in _split(mask):
            self._mask_item(schema_name, item.strip(), mask, selection)

    def _mask_item(self, schema_name: str, item: str, mask: str, selection: bool) -> None:
        if item in ("*", ""):
            if item == "":
                raise Invalid(f"Invalid field selection {mask}" if selection
                              else f"Invalid field mask: {mask}")
            return
        nested = None
        if item.endswith(")") and "(" in item:
            head, _, rest = item.partition("(")
            item, nested = head, rest[:-1]
        schema: dict[str, Any] | None = self.schemas[schema_name]
        for segment in re.split(r"[./]", item):
            if segment == "*":
                return
            properties = (schema or {}).get("properties", {})
            if segment not in properties:
                raise Invalid(f"Invalid field selection {segment}" if selection
                              else f"Invalid field mask: {mask} (no field « {segment} »)")
            schema = self._schema_of(properties[segment])
        if nested is not None:
            if schema is None or "id" not in schema:
                raise Invalid(f"Invalid field selection {mask}")
            for sub in _split(nested):
                self._mask_item(schema["id"], sub.strip(), mask, selection)

    def _schema_of(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        while spec.get("type") == "array":
            spec = spec.get("items", {})
        if "$ref" in spec:
            return self.schemas[spec["$ref"]]
        return None


def _split(mask: str) -> list[str]:
    """Top-level comma-separated items (commas inside parentheses stay)."""
    items, depth, current = [], 0, []
    for char in mask:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    if depth != 0:
        raise Invalid(f"Invalid field selection {mask}")
    return items


@lru_cache(maxsize=1)
def discovery() -> Discovery:
    return Discovery(json.loads(discovery_path().read_text(encoding="utf-8")))
