"""The OpenAPI document is complete and truthful: clients, generated SDKs and the contract
tests rely on every operation, answer, header, example and link it names."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from entrypoints.container import Container
from entrypoints.http import envelope, error_table
from entrypoints.http.app import create_app
from entrypoints.http.dependencies import current_user
from entrypoints.http.routers import (
    attachments,
    auth,
    credentials,
    health,
    items,
    me,
    mfa,
    security_events,
    users,
)
from entrypoints.http.schemas import attachments as attachment_bodies
from entrypoints.http.schemas import auth as auth_bodies
from entrypoints.http.schemas import common as common_bodies
from entrypoints.http.schemas import credentials as credential_bodies
from entrypoints.http.schemas import health as health_bodies
from entrypoints.http.schemas import items as item_bodies
from entrypoints.http.schemas import mfa as mfa_bodies
from entrypoints.http.schemas import security_events as event_bodies
from entrypoints.http.schemas import users as user_bodies
from entrypoints.settings import Settings

Document = dict[str, Any]
Operation = dict[str, Any]

SCHEMAS = "#/components/schemas/"
ENVELOPES = {"ErrorEnvelope", "ValidationErrorEnvelope"}
BEARER_SCHEME = "OAuth2PasswordBearer"
# The Prometheus scrape is plain text for a collector, not part of the JSON API.
NOT_THE_JSON_API = {"/metrics"}
READABLE_ID = re.compile(r"^[a-z][a-zA-Z]+$")
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
MODELS: dict[str, type[BaseModel]] = {
    name: value
    for module in (
        attachment_bodies,
        auth_bodies,
        common_bodies,
        credential_bodies,
        event_bodies,
        health_bodies,
        item_bodies,
        mfa_bodies,
        user_bodies,
        envelope,
    )
    for name, value in vars(module).items()
    if isinstance(value, type) and issubclass(value, BaseModel)
}


@pytest.fixture(scope="module")
def built_document() -> Document:
    """Built once for the module: building the app and its document is most of its time."""
    settings = Settings(
        _env_file=None,
        environment="test",
        database_url="sqlite+aiosqlite:///:memory:",
        jwt_secret="unit-test-secret-" + "x" * 32,
    )
    return create_app(settings).openapi()


@pytest.fixture
def document(built_document: Document) -> Document:
    return copy.deepcopy(built_document)  # each test may take it apart


def operations(document: Document) -> Iterator[tuple[str, Operation]]:
    """Each operation of the JSON API, named ``METHOD path``."""
    for path, item in document["paths"].items():
        if path in NOT_THE_JSON_API:
            continue
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield f"{method.upper()} {path}", operation


def by_operation_id(document: Document) -> dict[str, tuple[str, Operation]]:
    found: dict[str, tuple[str, Operation]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS and "operationId" in operation:
                found[operation["operationId"]] = (path, operation)
    return found


def schema_name(media: dict[str, Any]) -> str | None:
    ref = media.get("schema", {}).get("$ref", "")
    return ref.removeprefix(SCHEMAS) if ref.startswith(SCHEMAS) else None


def media_examples(media: dict[str, Any]) -> list[Any]:
    examples = [case["value"] for case in media.get("examples", {}).values()]
    return examples + ([media["example"]] if "example" in media else [])


def is_error(status: str) -> bool:
    return status.startswith(("4", "5"))


# Answers that never carry a body.
NO_BODY = {"204", "304"}


def test_every_operation_has_a_summary_a_description_a_tag_and_a_readable_unique_id(
    document: Document,
) -> None:
    problems = []
    seen: dict[str, str] = {}
    for name, operation in operations(document):
        if not operation.get("summary", "").strip():
            problems.append(f"{name}: no summary")
        if not operation.get("description", "").strip():
            problems.append(f"{name}: no description")
        if not operation.get("tags"):
            problems.append(f"{name}: no tag")
        operation_id = operation.get("operationId", "")
        if not READABLE_ID.match(operation_id):
            problems.append(f"{name}: operationId {operation_id!r} is not camelCase")
        if operation_id in seen:
            problems.append(f"{name}: operationId {operation_id!r} is also {seen[operation_id]}")
        seen[operation_id] = name
    assert not problems, "\n".join(problems)


def test_every_error_answer_is_the_envelope_with_examples(document: Document) -> None:
    problems = []
    for name, operation in operations(document):
        responses = operation["responses"]
        if "500" not in responses:
            problems.append(f"{name}: 500 not documented")
        for status, response in responses.items():
            if not is_error(status):
                continue
            content = response.get("content", {})
            if _is_binary(content):
                continue  # an attachment's bytes, documented as such
            if set(content) != {"application/json"}:
                problems.append(f"{name} {status}: content types {sorted(content)}")
                continue
            media = content["application/json"]
            expected = {"ValidationErrorEnvelope"} if status == "422" else ENVELOPES
            if schema_name(media) not in expected:
                problems.append(f"{name} {status}: schema {media.get('schema')}")
            if not media_examples(media):
                problems.append(f"{name} {status}: no example")
            if "X-Request-ID" not in response.get("headers", {}):
                problems.append(f"{name} {status}: X-Request-ID not documented")
    assert not problems, "\n".join(problems)


def test_the_envelope_documents_its_codes_and_field_errors(document: Document) -> None:
    components = document["components"]["schemas"]
    codes = set(components["ErrorCode"]["enum"])
    assert set().union(*error_table.CODES_BY_STATUS.values()) | {"HTTP_ERROR"} == codes
    body = components["ErrorBody"]
    assert body["properties"]["code"] == {"$ref": f"{SCHEMAS}ErrorCode"}
    assert set(body["required"]) == {"code", "message", "details", "request_id"}
    validation = components["ValidationErrorBody"]
    assert validation["properties"]["code"]["const"] == "VALIDATION_ERROR"
    details = components["ValidationErrorDetails"]["properties"]["errors"]
    assert details["items"] == {"$ref": f"{SCHEMAS}FieldError"}
    assert set(components["FieldError"]["required"]) == {"field", "message", "type"}


@pytest.mark.parametrize(
    ("status", "header"),
    [("401", "WWW-Authenticate"), ("429", "Retry-After"), ("503", "Retry-After")],
)
def test_error_answers_document_their_headers(document: Document, status: str, header: str) -> None:
    documented = [
        (name, operation["responses"][status])
        for name, operation in operations(document)
        if status in operation["responses"]
    ]
    assert documented
    for name, response in documented:
        assert response.get("headers", {}).get(header, {}).get("required"), name


def test_only_throttled_operations_document_429(document: Document) -> None:
    limited = {name for name, op in operations(document) if "429" in op["responses"]}
    assert limited == {
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/verify/resend",
        "POST /api/v1/users",  # per address
        "PATCH /api/v1/users/me",  # a wrong current password counts as a failed login
        "PATCH /api/v1/users/{user_id}",
        # Second-factor codes are counted like passwords.
        "POST /api/v1/auth/mfa/totp/confirm",
        "POST /api/v1/auth/mfa/totp/disable",
        "POST /api/v1/auth/mfa/recovery-codes",
        "POST /api/v1/auth/mfa/verify",
    }


def test_operations_that_take_input_document_invalid_input(document: Document) -> None:
    # An optional header that is read as text (If-None-Match: a malformed one matches
    # nothing) cannot be invalid; any other parameter or a body can.
    def can_be_invalid(parameter: dict[str, Any]) -> bool:
        return parameter["in"] != "header" or parameter.get("required", False)

    problems = [
        name
        for name, operation in operations(document)
        if (
            any(can_be_invalid(p) for p in operation.get("parameters", []))
            or operation.get("requestBody")
        )
        and "422" not in operation["responses"]
    ]
    assert not problems
    assert "422" in by_operation_id(document)["getItem"][1]["responses"]  # the path's id


def test_operations_with_a_body_document_an_unreadable_or_too_large_body(
    document: Document,
) -> None:
    problems = [
        name
        for name, operation in operations(document)
        if operation.get("requestBody") and not {"400", "413"} <= set(operation["responses"])
    ]
    assert not problems


def _needs_a_user(dependant: Dependant) -> bool:
    return any(
        dependency.call in (current_user, mfa.setup_bearer) or _needs_a_user(dependency)
        for dependency in dependant.dependencies
    )


def test_protected_operations_and_only_they_declare_the_bearer_scheme(
    document: Document,
) -> None:
    scheme = document["components"]["securitySchemes"][BEARER_SCHEME]
    assert scheme["type"] == "oauth2"
    login_path = scheme["flows"]["password"]["tokenUrl"]
    assert document["paths"][login_path]["post"]["operationId"] == "login"

    protected = {
        f"{method} {route.path}"
        for router in (
            attachments.router,
            auth.router,
            credentials.router,
            health.router,
            items.router,
            me.router,
            mfa.router,
            security_events.router,
            users.router,
        )
        for route in router.routes
        if isinstance(route, APIRoute) and _needs_a_user(route.dependant)
        for method in route.methods or ()
    }
    assert "GET /api/v1/users/me" in protected
    for name, operation in operations(document):
        if name in protected:
            security = operation.get("security")
            assert security is not None, name
            assert len(security) == 1, name
            assert set(security[0]) == {BEARER_SCHEME}, name
            # A scope is declared only where a personal access token may go.
            assert set(security[0][BEARER_SCHEME]) <= set(scheme["flows"]["password"]["scopes"])
            assert {"401", "503"} <= set(operation["responses"]), name
        else:
            assert "security" not in operation, name


def test_no_content_answers_have_no_body(document: Document) -> None:
    answers = [
        (name, operation["responses"][status])
        for name, operation in operations(document)
        for status in NO_BODY
        if status in operation["responses"]
    ]
    assert len(answers) >= 6
    for name, response in answers:
        assert "content" not in response, name


def test_item_and_user_answers_document_their_etag_and_the_conditions_on_it(
    document: Document,
) -> None:
    ids = by_operation_id(document)
    for operation_id, status in [
        ("createItem", "201"),
        ("getItem", "200"),
        ("getItem", "304"),
        ("updateItem", "200"),
        ("registerUser", "201"),
        ("getCurrentUser", "200"),
        ("getCurrentUser", "304"),
        ("getUser", "200"),
        ("getUser", "304"),
        ("updateCurrentUser", "200"),
        ("updateUser", "200"),
    ]:
        _, operation = ids[operation_id]
        etag = operation["responses"][status]["headers"].get("ETag", {})
        assert etag.get("required"), operation_id
        assert etag["schema"] == {"type": "string"}, operation_id
    for operation_id, header, statuses in [
        ("updateItem", "If-Match", {"200", "412"}),
        ("deleteItem", "If-Match", {"204", "412"}),
        ("getItem", "If-None-Match", {"200", "304"}),
        ("updateCurrentUser", "If-Match", {"200", "412"}),
        ("updateUser", "If-Match", {"200", "412"}),
        ("deleteCurrentUser", "If-Match", {"204", "412"}),
        ("deleteUser", "If-Match", {"204", "412"}),
        ("getCurrentUser", "If-None-Match", {"200", "304"}),
        ("getUser", "If-None-Match", {"200", "304"}),
    ]:
        _, operation = ids[operation_id]
        [parameter] = [p for p in operation["parameters"] if p["name"] == header]
        assert parameter["in"] == "header", operation_id
        assert not parameter.get("required"), operation_id
        assert parameter["schema"]["anyOf"][0] == {"type": "string"}, operation_id
        assert statuses <= set(operation["responses"]), operation_id
    for name, operation in operations(document):
        if "412" in operation["responses"]:
            assert name.split()[0] in ("PATCH", "DELETE"), name
            assert name.split()[1].startswith(("/api/v1/items/", "/api/v1/users/")), name


def test_success_answers_are_json_with_examples(document: Document) -> None:
    components = document["components"]["schemas"]
    problems = []
    for name, operation in operations(document):
        for status, response in operation["responses"].items():
            if is_error(status) or status in NO_BODY:
                continue
            content = response.get("content", {})
            if _is_binary(content):
                continue  # an attachment's bytes, documented as such
            if set(content) != {"application/json"}:
                problems.append(f"{name} {status}: content types {sorted(content)}")
                continue
            media = content["application/json"]
            model = schema_name(media)
            if model is None:
                problems.append(f"{name} {status}: not a named schema")
            elif not (media_examples(media) or components[model].get("examples")):
                problems.append(f"{name} {status}: no example")
    assert not problems, "\n".join(problems)


def _is_binary(content: dict[str, Any]) -> bool:
    return content == {"*/*": {"schema": BINARY_SCHEMA}}


BINARY_SCHEMA = {"type": "string", "format": "binary"}


def _is_file_upload(media: dict[str, Any]) -> bool:
    properties = media.get("schema", {}).get("properties", {})
    return bool(properties) and all(p == BINARY_SCHEMA for p in properties.values())


def test_request_bodies_have_examples(document: Document) -> None:
    components = document["components"]["schemas"]
    problems = []
    for name, operation in operations(document):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            model = schema_name(media)
            schema_examples = components[model].get("examples") if model else None
            if not (media_examples(media) or schema_examples):
                problems.append(f"{name}: {media_type} body has no example")
    assert not problems, "\n".join(problems)


def _check_model_examples(name: str, model: type[BaseModel], schema: dict[str, Any]) -> None:
    examples = schema.get("examples")
    assert examples, f"{name} has no example"
    for example in examples:
        model.model_validate(example)
    # A field's own example must fit too: try each in place of the model's first example.
    for field_name, field in model.model_fields.items():
        for value in field.examples or []:
            model.model_validate({**examples[0], field_name: value})


def _check_form_example(name: str, schema: dict[str, Any], example: dict[str, Any]) -> None:
    properties = schema["properties"]
    assert set(schema.get("required", [])) <= set(example) <= set(properties), name
    for key, value in example.items():
        assert isinstance(value, str), (name, key)
        assert len(value) <= properties[key].get("maxLength", len(value)), (name, key)


def test_every_example_is_valid_against_its_model(document: Document) -> None:
    components = document["components"]["schemas"]
    for name, schema in components.items():
        if "enum" in schema:
            continue
        if name.startswith("Body_"):  # a form: FastAPI makes its schema from the parameters
            fields = schema["properties"]
            assert all(field.get("examples") for field in fields.values()), name
            for key, field in fields.items():
                for value in field["examples"]:
                    _check_form_example(name, {"properties": {key: field}}, {key: value})
            continue
        assert name in MODELS, f"{name} is not one of the API's models"
        _check_model_examples(name, MODELS[name], schema)

    checked = 0
    for name, operation in operations(document):
        bodies = operation.get("requestBody", {}).get("content", {}).values()
        answers = [
            media
            for response in operation["responses"].values()
            for media in response.get("content", {}).values()
        ]
        for media in [*bodies, *answers]:
            if _is_binary({"*/*": media}) or _is_file_upload(media):
                continue  # bytes: no model to hold them to
            model = schema_name(media)
            assert model is not None, name
            for example in media_examples(media):
                if model.startswith("Body_"):
                    _check_form_example(name, components[model], example)
                else:
                    MODELS[model].model_validate(example)
                checked += 1
    assert checked > 50


def test_error_examples_use_the_code_of_their_status(document: Document) -> None:
    # A body the framework cannot read at all is its 400; INVALID_TOKEN is the service's.
    codes = {status: set(found) for status, found in error_table.CODES_BY_STATUS.items()}
    codes[400] = {"HTTP_ERROR", "INVALID_TOKEN"}
    codes[416] = {"HTTP_ERROR"}
    for name, operation in operations(document):
        for status, response in operation["responses"].items():
            if not is_error(status):
                continue
            for example in media_examples(response["content"]["application/json"]):
                assert example["error"]["code"] in codes[int(status)], (name, status)


@pytest.mark.parametrize(
    ("create", "parameter", "targets", "conditional"),
    [
        ("createItem", "item_id", {"getItem", "updateItem", "deleteItem"}, True),
        ("registerUser", "user_id", {"getUser", "updateUser", "deleteUser"}, True),
    ],
)
def test_created_answers_link_to_reading_changing_and_deleting(
    document: Document, create: str, parameter: str, targets: set[str], conditional: bool
) -> None:
    ids = by_operation_id(document)
    _, operation = ids[create]
    created = operation["responses"]["201"]
    model = schema_name(created["content"]["application/json"])
    assert model is not None
    assert "id" in document["components"]["schemas"][model]["required"]

    links = {name: link for name, link in created["links"].items() if "parameters" in link}
    assert {link["operationId"] for link in links.values()} == targets
    for link in links.values():
        path, target = ids[link["operationId"]]
        path_parameters = {p["name"] for p in target["parameters"] if p["in"] == "path"}
        assert path_parameters == {parameter}
        assert f"{{{parameter}}}" in path
        expected = {parameter: "$response.body#/id"}
        if conditional and not link["operationId"].startswith("get"):
            expected["header.If-Match"] = "$response.header.ETag"
        assert link["parameters"] == expected


def test_a_new_account_links_to_logging_in_with_what_was_registered(document: Document) -> None:
    _, operation = by_operation_id(document)["registerUser"]
    login = operation["responses"]["201"]["links"]["login"]
    assert login["operationId"] == "login"
    assert login["requestBody"] == {
        "username": "$request.body#/email",
        "password": "$request.body#/password",
    }


@pytest.mark.parametrize("source", ["login", "refreshTokens", "verifyMfa"])
def test_a_token_pair_links_to_refreshing_and_logging_out(document: Document, source: str) -> None:
    _, operation = by_operation_id(document)[source]
    links = operation["responses"]["200"]["links"]
    assert {link["operationId"] for link in links.values()} == {"refreshTokens", "logout"}
    for link in links.values():
        assert link["requestBody"] == {"refresh_token": "$response.body#/refresh_token"}


def test_every_link_points_at_a_real_operation_and_its_parameters(document: Document) -> None:
    ids = by_operation_id(document)
    links = [
        link
        for _, operation in operations(document)
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) == 13  # verifyMfa gives a pair too
    for link in links:
        _, target = ids[link["operationId"]]
        names = {
            f"header.{p['name']}" if p["in"] == "header" else p["name"]
            for p in target.get("parameters", [])
        }
        assert set(link.get("parameters", {})) <= names
        if "requestBody" in link:
            fields = set(_request_body_properties(document, target))
            assert set(link["requestBody"]) <= fields, link


def _request_body_properties(document: Document, operation: dict[str, Any]) -> dict[str, Any]:
    (content,) = operation["requestBody"]["content"].values()
    schema = content["schema"]
    name = schema_name(content)
    if name is not None:
        schema = document["components"]["schemas"][name]
    properties: dict[str, Any] = schema["properties"]
    return properties


@pytest.mark.parametrize(
    ("environment", "docs_enabled", "served"),
    [("production", True, True), ("development", False, False)],
)
async def test_docs_enabled_overrides_the_environment(
    container: Container, environment: str, docs_enabled: bool, served: bool
) -> None:
    """Production without ``DOCS_ENABLED`` serves no documentation (see the e2e tests)."""
    settings = Settings(
        _env_file=None,
        environment=environment,
        database_url="sqlite+aiosqlite:///:memory:",
        jwt_secret="production-grade-secret-" + "x" * 24,
        encryption_key="IupzHTMrOXaFMRE85WOTEYIcs3NDLK0WVQIWfYBM1Jc=",
        trusted_hosts="keel.test",
        docs_enabled=docs_enabled,
    )
    app = create_app(settings, container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://keel.test") as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            response = await client.get(path)
            assert response.status_code == (200 if served else 404), path
        if served:
            assert response.json()["paths"]
