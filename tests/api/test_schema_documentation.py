"""The published schema documents itself: every operation says what it does, every property of
every schema says what it holds, and every request body and successful answer has an example
an integrator can copy."""

import pytest
from jsonschema import Draft7Validator

pytestmark = pytest.mark.django_db

METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def _undescribed(where: str, node) -> list[str]:
    """Properties without a description anywhere under a schema: nested objects, array items and
    the branches of allOf / oneOf / anyOf included."""
    if not isinstance(node, dict):
        return []
    missing = []
    for name, prop in (node.get("properties") or {}).items():
        if not (isinstance(prop, dict) and prop.get("description", "").strip()):
            missing.append(f"{where}.{name}")
        missing += _undescribed(f"{where}.{name}", prop)
    if "items" in node:
        missing += _undescribed(f"{where}[]", node["items"])
    for combinator in ("allOf", "oneOf", "anyOf"):
        for branch in node.get(combinator, []):
            missing += _undescribed(where, branch)
    if isinstance(node.get("additionalProperties"), dict):
        missing += _undescribed(f"{where}{{}}", node["additionalProperties"])
    return missing


def _has_example(media: dict) -> bool:
    return bool(media.get("examples") or "example" in media)


def test_every_operation_has_a_description(schema):
    operations = list(_operations(schema))

    undescribed = [name for name, operation in operations
                   if not operation.get("description", "").strip()]

    assert len(operations) > 30
    assert undescribed == []


def test_every_property_of_every_schema_has_a_description(schema):
    components = schema["components"]["schemas"]
    inline = [
        (f"{name} {where}", media["schema"])
        for name, operation in _operations(schema)
        for where, media in (
            *((f"request {t}", m) for t, m in
              operation.get("requestBody", {}).get("content", {}).items()),
            *((f"{code} {t}", m) for code, answer in operation["responses"].items()
              for t, m in answer.get("content", {}).items()),
        )
        if "schema" in media
    ]

    missing = [
        *(found for name, component in components.items()
          for found in _undescribed(name, component)),
        *(found for where, node in inline for found in _undescribed(where, node)),
    ]

    assert len(components) > 40
    assert missing == []


def test_every_request_body_and_successful_answer_has_an_example(schema):
    missing = []
    for name, operation in _operations(schema):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if not _has_example(media):
                missing.append(f"{name} request {media_type}")
        for code, answer in operation["responses"].items():
            if not code.startswith("2"):
                continue
            for media_type, media in answer.get("content", {}).items():
                if not _has_example(media):
                    missing.append(f"{name} {code} {media_type}")

    assert missing == []


def _as_json_schema(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, everything else as it is."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items()
                 if key not in ("nullable", "example", "examples")}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def test_every_example_is_valid_against_its_schema(schema):
    components = _as_json_schema(schema["components"])
    invalid = []
    for name, operation in _operations(schema):
        bodies = [("request", media) for media in
                  operation.get("requestBody", {}).get("content", {}).values()]
        bodies += [(code, media) for code, answer in operation["responses"].items()
                   for media in answer.get("content", {}).values()]
        for where, media in bodies:
            validator = Draft7Validator({**_as_json_schema(media["schema"]),
                                         "components": components})
            for label, example in (media.get("examples") or {}).items():
                invalid += [f"{name} {where} {label}: {error.json_path}: {error.message}"
                            for error in validator.iter_errors(example["value"])]

    assert invalid == []


def test_examples_speak_of_this_business(schema):
    """Examples are of an NHS trust's world in pounds sterling, not placeholders."""
    text = str([media.get("examples") for _, operation in _operations(schema)
                for answer in operation["responses"].values()
                for media in answer.get("content", {}).values()])

    assert "NHS" in text and "GBP" in text
    for placeholder in ("string", "example.com", "foo", "lorem"):
        assert f"'{placeholder}'" not in text.lower()
