"""
Schemathesis hooks for the fuzz stage (test/fuzz/run.ts).

positive_data_acceptance is told (schemathesis.toml) that a schema-valid request may be refused
with 400 or 422: some rules span several fields (min <= max, a flat fee needs an amount) or need
stored data (program_id must name a program), and no JSON Schema states them. This check keeps
that allowance honest: a schema-valid request refused with 400 may only be refused by such rules,
never by a field's own rule (`rule: "field"`, what the document states) or by the request guard
(`rule: "request"`). Any of those means the document and the validators disagree.
"""
import jsonschema_rs
import schemathesis


def _is_probe(case) -> bool:
    try:
        from schemathesis.specs.openapi.checks import is_unexpected_http_status_case
    except ImportError:  # pragma: no cover - other schemathesis versions
        return False
    return is_unexpected_http_status_case(case)


def _fits(schema, value, root) -> bool:
    if not isinstance(schema, dict):
        return True
    # A body schema may point into the document's components: resolve against the document.
    return jsonschema_rs.is_valid({**schema, "components": root.get("components", {})}, value)


def _linked_value_outside_its_schema(case) -> bool:
    """
    The stateful phase fills parameters from earlier answers by inferred links (an investor's id
    into a portfolio's path) and still calls the case positive. A value its own parameter's schema
    refuses is a negative case, whatever the phase says.
    """
    if getattr(case.meta.phase, "name", None) != "stateful":
        return False
    raw = getattr(case.operation.definition, "raw", None) or {}
    root = getattr(case.operation.schema, "raw_schema", None) or {}
    containers = {"path": case.path_parameters or {}, "query": case.query or {}}
    for param in raw.get("parameters", []):
        values = containers.get(param.get("in"))
        if values is None or param.get("name") not in values:
            continue
        value = values[param["name"]]
        schema = param.get("schema", {})
        # Path and query values travel as text: compare a number's text with a number schema.
        if isinstance(value, str) and schema.get("type") in ("integer", "number"):
            try:
                value = int(value) if schema["type"] == "integer" else float(value)
            except ValueError:
                return True
        if not _fits(schema, value, root):
            return True
    body_schema = ((raw.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
    body = getattr(case, "body", None)
    if body_schema and isinstance(body, (dict, list)) and not _fits(body_schema, body, root):
        return True
    return False


@schemathesis.check
def schema_valid_request_passes_field_rules(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400 or _is_probe(case):
        return None
    if _linked_value_outside_its_schema(case):
        return None
    try:
        fields = response.json()["error"]["data"]["fields"]
    except Exception:
        raise AssertionError("a 400 must name its fields in error.data.fields")
    refused_by_schema = [f for f in fields if f.get("rule") in ("field", "request")]
    if not fields or refused_by_schema:
        names = ", ".join(f"{f.get('field')} ({f.get('type')}: {f.get('message')})" for f in refused_by_schema) or "no field named"
        raise AssertionError(f"Schema-valid request refused by a rule the document states differently: {names}")
    return None
