"""OpenAPI post-processing: every operation documents the common error body and the error
statuses the API can answer, so generated clients (and schemathesis) know them."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error body of the API.",
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable code."},
        "detail": {"type": "string", "description": "A message for people."},
        "fields": {
            "type": "object",
            "description": "Field name → messages, for invalid input.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "allowed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "For 409 transition_not_allowed: the actions open now.",
        },
    },
    "required": ["code", "detail", "fields"],
}
ERROR_DESCRIPTIONS = {
    "400": "Malformed request or invalid input",
    "401": "Not authenticated",
    "403": "Not permitted",
    "404": "Not found (or not visible to you)",
    "406": "Not acceptable",
    "409": "Conflict: the action is not allowed in the dossier's current state",
    "415": "Unsupported media type",
    "422": "Refused by a rule of the domain",
    "429": "Too many requests",
}
READ_ERRORS = ("400", "401", "403", "404", "406", "429")
WRITE_ERRORS = READ_ERRORS + ("409", "415", "422")


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = READ_ERRORS if method == "get" else WRITE_ERRORS
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": ERROR_DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
    return result
