"""
Schemathesis hooks for the fuzz stage (test/fuzz/run.ts).

positive_data_acceptance is told (schemathesis.toml) that a schema-valid request may be refused
with 400 or 422: some rules span several fields (min <= max, a flat fee needs an amount) or need
stored data (program_id must name a program), and no JSON Schema states them. This check keeps
that allowance honest: a schema-valid request refused with 400 may only be refused by such rules,
never by a field's own rule (`rule: "field"`, what the document states) or by the request guard
(`rule: "request"`). Any of those means the document and the validators disagree.
"""
import schemathesis


def _is_probe(case) -> bool:
    try:
        from schemathesis.specs.openapi.checks import is_unexpected_http_status_case
    except ImportError:  # pragma: no cover - other schemathesis versions
        return False
    return is_unexpected_http_status_case(case)


@schemathesis.check
def schema_valid_request_passes_field_rules(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400 or _is_probe(case):
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
