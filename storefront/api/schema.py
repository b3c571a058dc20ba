"""OpenAPI post-processing: every operation documents the one error format for its 4xx answers."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "description": "What went wrong, in the one format of every 4xx and 5xx answer.",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "not_found",
                         "description": "A stable code to branch on, e.g. price_changed."},
                "message": {"type": "string", "example": "No such order.",
                            "description": "The problem in words, for a person."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Messages per input field, e.g. `lines.0.quantity`.",
                },
            },
        }
    },
}

ERROR_STATUSES = {
    "400": "The request is not valid (see `fields`).",
    "401": "No credentials, or an unknown, revoked or expired key.",
    "403": "The key or account may not do this (scope or role).",
    "404": "No such object for this account.",
    "409": "The world moved on: a price changed, or the order's state no longer allows this.",
    "422": "Well formed, but a business rule refuses it (see `code`).",
    "429": "Too many requests for this key; retry after the `Retry-After` seconds.",
}

# Answers of an operation that reads a (JSON) request body.
BODY_ERROR_STATUSES = {
    "413": "The request body is larger than the API takes.",
    "415": "The request body is not JSON (`Content-Type: application/json`).",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            statuses = dict(ERROR_STATUSES)
            if "requestBody" in operation:
                statuses.update(BODY_ERROR_STATUSES)
            for code, description in statuses.items():
                responses.setdefault(code, {"description": description, "content": reference})
    return result
