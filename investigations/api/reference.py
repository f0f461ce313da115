"""The HTML API reference at /api/v1/docs, rendered on the server from the OpenAPI document.

No script and nothing from a CDN: it is the OpenAPI document (the same dict served as
/api/v1/openapi.json) laid out as a page, so it can never disagree with the code.
"""
import re

from flask import Blueprint, current_app, render_template
from markupsafe import Markup, escape

from ..permissions import public
from .auth import API_PREFIX

bp = Blueprint("api_reference", __name__)

METHODS = ("get", "post", "put", "patch", "delete")
PATTERN_SHOWN = 80  # longer patterns (spelled-out character classes) are left to the document


def _resolve(spec: dict, item: dict | None) -> dict:
    """Follow a local "$ref" ("#/components/schemas/Case") to what it names."""
    while isinstance(item, dict) and "$ref" in item:
        node = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {})
        item = node
    return item or {}


def _ref_name(item: dict | None) -> str | None:
    if isinstance(item, dict) and "$ref" in item:
        return item["$ref"].rsplit("/", 1)[-1]
    return None


def describe_type(spec: dict, schema: dict | None) -> str:
    """A schema as a short text: "string (date)", "array of Case", "one of: new, investigating"."""
    schema = schema or {}
    name = _ref_name(schema)
    if name:
        return name
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return describe_type(spec, schema["allOf"][0])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " or ".join(str(k) for k in kind)
    if kind == "array":
        return f"array of {describe_type(spec, schema.get('items'))}"
    if kind == "object" and "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict):
        return f"object of {describe_type(spec, schema['additionalProperties'])}"
    text = f"{kind} ({schema['format']})" if schema.get("format") else str(kind)
    if schema.get("nullable"):
        text += ", or null"
    return text


def _constraints(schema: dict) -> list[str]:
    notes = []
    if schema.get("enum"):
        notes.append("one of: " + ", ".join(str(value) for value in schema["enum"] if value is not None))
    if schema.get("minLength") == 1:
        notes.append("not empty")
    elif "minLength" in schema:
        notes.append(f"at least {schema['minLength']} characters")
    for key, label in (("maxLength", "at most {} characters"),
                       ("minimum", "from {}"), ("maximum", "up to {}"), ("minItems", "at least {} items"),
                       ("maxItems", "at most {} items"), ("pattern", "matching {}")):
        if key == "pattern" and len(schema.get(key, "")) > PATTERN_SHOWN:
            notes.append("matching the pattern in openapi.json")  # spelled-out character classes
        elif key in schema:
            notes.append(label.format(schema[key]))
    if "default" in schema:
        notes.append(f"default: {schema['default']}")
    return notes


def schema_fields(spec: dict, schema: dict | None) -> list[dict]:
    """The properties of an object schema: name, type, required, notes, description."""
    schema = _resolve(spec, schema)
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        rows.append({"name": name, "type": describe_type(spec, prop), "required": name in required,
                     "read_only": prop.get("readOnly", False), "notes": _constraints(_resolve(spec, prop)),
                     "description": prop.get("description", "")})
    return rows


def _content(spec: dict, content: dict | None, expand: bool) -> list[dict]:
    """Each media type with its schema; its fields too when `expand` (request bodies) or when the
    schema is written inline (a named schema is listed once, under Schemas)."""
    shown = []
    for media_type, body in (content or {}).items():
        schema = body.get("schema")
        name = _ref_name(schema)
        shown.append({"media_type": media_type, "type": describe_type(spec, schema), "schema_name": name,
                      "fields": schema_fields(spec, schema) if expand or not name else []})
    return shown


def operations(spec: dict) -> list[dict]:
    """Every operation, grouped by tag in the document's tag order."""
    tags = [{"name": tag["name"], "description": tag.get("description", ""), "operations": []}
            for tag in spec.get("tags", [])]
    by_name = {tag["name"]: tag for tag in tags}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            parameters = [_resolve(spec, p) for p in item.get("parameters", []) + operation.get("parameters", [])]
            body = operation.get("requestBody")
            responses = []
            for status, response in sorted(operation.get("responses", {}).items(),
                                           key=lambda item: (item[0] == "default", item[0])):
                resolved = _resolve(spec, response)
                responses.append({"status": status, "description": resolved.get("description", ""),
                                  "content": _content(spec, resolved.get("content"), expand=False),
                                  "headers": sorted((resolved.get("headers") or {}).keys())})
            entry = {
                "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                "method": method.upper(), "path": path, "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "parameters": [{"name": p.get("name"), "in": p.get("in"), "required": p.get("required", False),
                                "type": describe_type(spec, p.get("schema")), "notes": _constraints(p.get("schema", {})),
                                "description": p.get("description", "")} for p in parameters],
                "body": ({"required": body.get("required", False),
                          "content": _content(spec, body.get("content"), expand=True)} if body else None),
                "responses": responses,
            }
            for tag_name in operation.get("tags") or ["Other"]:
                if tag_name not in by_name:
                    by_name[tag_name] = {"name": tag_name, "description": "", "operations": []}
                    tags.append(by_name[tag_name])
                by_name[tag_name]["operations"].append(entry)
    return [tag for tag in tags if tag["operations"]]


def _refs(node, found: set[str]) -> set[str]:
    """The names of the component schemas `node` refers to, directly or through other schemas."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def schemas(spec: dict) -> list[dict]:
    """The named schemas the operations use (with those they contain), by name."""
    components = spec.get("components", {})
    used, todo = set(), _refs(spec.get("paths", {}), set())
    while todo:
        ref = todo.pop()
        kind, _, name = ref.rpartition("/")
        if ref in used:
            continue
        used.add(ref)
        section = components.get(kind.rsplit("/", 1)[-1], {})
        todo |= _refs(section.get(name, {}), set()) - used
    names = sorted(ref.rsplit("/", 1)[-1] for ref in used if ref.startswith("#/components/schemas/"))
    return [{"name": name, "description": components["schemas"][name].get("description", ""),
             "fields": schema_fields(spec, components["schemas"][name])} for name in names]


def with_code(text: str | None) -> Markup:
    """Descriptions mark code with `backticks`: escaped text, with <code> for those."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text or ""))))


@bp.route(f"{API_PREFIX}/docs")
@public  # what the API offers is no secret; every call still needs a token
def docs():
    spec = current_app.extensions["investigations_api"].spec.to_dict()
    return render_template("api/reference.html", spec=spec, sections=operations(spec), schemas=schemas(spec),
                           api_prefix=API_PREFIX, with_code=with_code)
