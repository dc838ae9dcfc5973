"""Hostile input by class, generated for every operation of the OpenAPI schema.

Each class of hostile input is tried in many forms on every operation it applies to (not only
the instance that once broke something): parser limits, numeric coercion, parameter grammar,
existence oracles, anonymous disclosure. Every answer must be a 4xx (or a success) that names
what was wrong, never a 5xx. Races, secrets and transfer encodings, which need threads, other
processes or the WSGI entry point, have their own modules (``test_races.py``,
``test_settings.py``, ``test_transfer_encoding.py``). Each test prints how many requests it
sent; docs/reliability.md quotes the figures.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest

from core.api.filters import MAX_VALUES
from core.tests.schema_operations import VECTOR, Operation, factory_for, make_row, operations
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

_numbers = itertools.count(1)

DEEP_OBJECT = '{"a":' * 2000 + "1" + "}" * 2000
DEEP_ARRAY = "[" * 5000 + "]" * 5000
PARSER_BODIES = [
    DEEP_OBJECT,
    DEEP_ARRAY,
    '{"a":' * 65 + "1" + "}" * 65,  # just past the documented limit
    "[" * 100 + "]" * 100,
    '{"a": 1e999}',
    '{"a": -1e999}',
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": 1' + "0" * 5000 + "}",  # past Python's digit limit
    '{"a": "\\ud800"}',  # a lone surrogate: not storable text
    '{"a": "x\\u0000y"}',
    "\ufeff{}",
    "[]",
    "[1, 2]",
    "1",
    '"text"',
    "null",
    "",
    "   ",
    "{",
    '{"a": 1,}',
    '{"a": 1} {"b": 2}',
    '{"a": 1, "a": 2}',  # a key given twice: which one was meant?
]
INVALID_UTF8 = b'{"a": "\xff\xfe"}'
NUMBER_LITERALS = [
    "1" + "0" * 400,
    "-1" + "0" * 400,
    "1e999",
    "-1e999",
    "1e-400",
    "9223372036854775808",
    "18446744073709551616",
    "-9223372036854775809",
    "2147483648",
    "1.5",
    "-0",
    "-1",
    "0",
    "true",
    '"12"',
    '"1e999"',
    '"' + "9" * 400 + '"',
    "null",
    "[1]",
    "{}",
]
QUERY_VALUES = [
    "",
    " ",
    "-",
    "--",
    "--key",
    "+1",
    ",",
    ",,",
    "a,,b",
    "\x00",
    "%00",
    "9" * 400,
    "-" + "9" * 400,
    "1e400",
    "1e-400",
    "0x10",
    "1_000",
    "١٢",  # Arabic-Indic digits
    "NaN",
    "inf",
    "-0",
    "1.0",
    " 5",
    "null",
    "[]",
    "{}",
    "ä" * 300,
    "x" * 10_000,
    "true;false",
    "' OR 1=1 --",
]
# Text Python's int() would take, but no integer parameter may: each is a 400 naming it.
NONCANONICAL_INTEGERS = [
    "1_0",
    "+1",
    "01",
    " 1",
    "1 ",
    "1.0",
    "-0",
    "\u0661",
    "\uff11",
    "0x1",
    "1e1",
    "",
]
# Text that is not one of the boolean spellings (true/false, 1/0, yes/no, on/off).
NONCANONICAL_BOOLEANS = ["t", "f", "y", "n", " true", "true ", "2", "", "truee", "null"]
# JSON values an integer body field refuses (a number field takes 1.5 and 1.0).
NON_INTEGER_LITERALS = ["true", "false", '"12"', '"1e2"', "1.5", "1.0", "[1]", "{}"]
NON_NUMBER_LITERALS = ["true", "false", '"12"', '"1e2"', "[1]", "{}"]
ORDERING_VALUES = [
    "--key",
    "---created_at",
    "-",
    "+id",
    "id,id",
    "id,-id",
    "-id,-id",
    " id",
    "ID",
    "created_at,,id",
    ",id",
    "id,",
    "project__key",
    "id;",
    "-created_at,--id",
]


class Recorder:
    """Counts the requests of a class, and keeps every answer that broke the rule."""

    def __init__(self, name: str):
        self.name = name
        self.sent = 0
        self.broken: list[str] = []

    def check(self, response, what: str) -> None:
        self.sent += 1
        status = response.status_code
        if status >= 500:
            self.broken.append(f"{what}: {status}")
        elif status == 400 and not _names_something(response):
            self.broken.append(f"{what}: 400 without a message")

    def check_names(self, response, name: str, what: str) -> None:
        """Like ``check``, and the answer must be a 400 naming ``name``."""
        self.check(response, what)
        if not _names(response, name):
            self.broken.append(f"{what}: {response.status_code}, not a 400 naming {name}")

    def finish(self) -> None:
        print(f"\ninput class {self.name}: {self.sent} requests, {len(self.broken)} broken")
        assert not self.broken, "\n".join(self.broken[:40])


def _names_something(response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and any(body.values())


def base_body(operation: Operation) -> dict:
    """A body the operation would accept, so that an attack on one field reaches that field."""
    n = next(_numbers)
    if "embedding" in operation.body:
        return {"embedding": VECTOR, **({"limit": 5} if "limit" in operation.body else {})}
    prefix = operation.path.split("/")[2]
    if operation.method == "PATCH":
        return {}
    row = {
        "issues": {"key": f"GEN-{n}", "summary": "generated"},
        "projects": {"key": f"GEN{n}", "name": "generated"},
        "pull-requests": {"repository": "org/generated", "number": n, "name": "generated"},
        "users": {"email": f"generated{n}@example.test"},
    }.get(prefix, {})
    return {"rows": [row]} if _bulk(operation) else row


def _bulk(operation: Operation) -> bool:
    return operation.path.endswith("/bulk/")


def bulk_row_fields(operation: Operation) -> dict[str, dict]:
    """The properties of one row of a bulk operation (resolved schemas)."""
    from core.tests.schema_operations import _resolve

    return _resolve(operation.body["rows"]["items"])["properties"]


def with_raw(body: dict, name: str, literal: str) -> str:
    """``body`` as JSON text with ``name`` set to the raw JSON ``literal``."""
    rest = {key: value for key, value in body.items() if key != name}
    text = json.dumps(rest)
    inner = text[1:-1]
    return "{" + (inner + ", " if inner else "") + f'"{name}": {literal}' + "}"


def _types(schema: dict) -> set[str]:
    return {schema.get("type"), *(option.get("type") for option in schema.get("oneOf", []))}


def _numeric(schema: dict) -> bool:
    return bool(_types(schema) & {"integer", "number"})


def _names(response, name: str) -> bool:
    """A 400 whose body names ``name`` (the field or parameter)."""
    return response.status_code == 400 and name in response.json()


@pytest.fixture
def world(api, tenant_a, tenant_b, admin_a):
    """A row of each resource in tenant A (to act on) and in tenant B, and A's admin."""
    rows, theirs = {}, {}
    for operation in operations():
        factory = factory_for(operation.path)
        if factory not in rows:
            rows[factory] = make_row(factory, tenant_a)
            theirs[factory] = make_row(factory, tenant_b)
    return {"client": api(admin_a), "rows": rows, "theirs": theirs, "anonymous": api()}


def url(operation: Operation, world: dict, *, theirs: bool = False) -> str:
    rows = world["theirs" if theirs else "rows"]
    return operation.path.replace("{id}", str(rows[factory_for(operation.path)].pk))


def send(client, operation: Operation, target: str, body, **query):
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    if query:
        target = (
            target
            + "?"
            + "&".join(
                f"{name}={_quote(value)}"
                for name, values in query.items()
                for value in (values if isinstance(values, list) else [values])
            )
        )
    return client.generic(
        operation.method, target, data=data or "", content_type="application/json"
    )


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def test_parser_limits_on_every_body(world):
    recorder = Recorder("parser limits")
    client = world["client"]
    for operation in operations():
        if operation.method not in ("POST", "PUT", "PATCH"):
            continue
        target = url(operation, world)
        for body in [*PARSER_BODIES, INVALID_UTF8]:
            response = send(client, operation, target, body)
            recorder.check(response, f"{operation} body {body[:30]!r}")
        # The same shapes inside each of the operation's own fields.
        for name in operation.body:
            for inner in ("[" * 3000 + "]" * 3000, '{"a":' * 100 + "1" + "}" * 100, '"\\ud800"'):
                response = send(
                    client, operation, target, with_raw(base_body(operation), name, inner)
                )
                recorder.check(response, f"{operation} {name}={inner[:20]!r}")
    recorder.finish()


def test_numeric_coercion_on_every_number(world):
    recorder = Recorder("numeric coercion")
    client = world["client"]
    for operation in operations():
        target = url(operation, world)
        for name, schema in operation.body.items():
            if name == "embedding":
                for literal in NUMBER_LITERALS:
                    numbers = [json.dumps(x) for x in VECTOR]
                    numbers[7] = literal
                    response = send(
                        client, operation, target,
                        with_raw(base_body(operation), name, "[" + ",".join(numbers) + "]"),
                    )  # fmt: skip
                    recorder.check(response, f"{operation} embedding[7]={literal[:20]}")
            elif _numeric(schema):
                for literal in NUMBER_LITERALS:
                    response = send(
                        client, operation, target, with_raw(base_body(operation), name, literal)
                    )
                    recorder.check(response, f"{operation} {name}={literal[:20]}")
                # No coercion: a string, a boolean (or, for an integer, a fraction) is refused.
                refused = (
                    NON_INTEGER_LITERALS if "integer" in _types(schema) else NON_NUMBER_LITERALS
                )
                for literal in refused:
                    response = send(
                        client, operation, target, with_raw(base_body(operation), name, literal)
                    )
                    recorder.check_names(response, name, f"{operation} {name}={literal}")
        body = base_body(operation) if operation.method != "GET" else None
        for name, schema in operation.query.items():
            if _numeric(schema):
                for value in QUERY_VALUES:
                    response = send(client, operation, target, body, **{name: value})
                    recorder.check(response, f"{operation} ?{name}={value[:20]!r}")
            noncanonical = {"integer": NONCANONICAL_INTEGERS, "boolean": NONCANONICAL_BOOLEANS}
            for kind, values in noncanonical.items():
                if kind not in _types(schema):
                    continue
                for value in values:
                    response = send(client, operation, target, body, **{name: value})
                    recorder.check_names(response, name, f"{operation} ?{name}={value!r}")
    recorder.finish()


def test_parameter_grammar_on_every_query_parameter(world):
    recorder = Recorder("parameter grammar")
    client = world["client"]
    for operation in operations():
        target = url(operation, world)
        body = base_body(operation) if operation.method in ("POST", "PUT", "PATCH") else None
        for name in operation.query:
            values = [*QUERY_VALUES, *(ORDERING_VALUES if name == "ordering" else ())]
            for value in values:
                response = send(client, operation, target, body, **{name: value})
                recorder.check(response, f"{operation} ?{name}={value[:20]!r}")
                if name == "ordering" and value in ORDERING_VALUES and response.status_code != 400:
                    recorder.broken.append(
                        f"{operation} ?ordering={value!r}: {response.status_code}"
                    )
            if operation.query[name].get("type") == "array":
                # A filter of several values ("any of"): repeated is fine, within its limit.
                response = send(client, operation, target, body, **{name: ["1", "2"]})
                recorder.check(response, f"{operation} ?{name} repeated")
                many = [str(n) for n in range(MAX_VALUES + 1)]
                response = send(client, operation, target, body, **{name: many})
                recorder.check_names(response, name, f"{operation} ?{name} x{len(many)}")
                response = send(client, operation, target, body, **{name: ["1", ""]})
                recorder.check_names(response, name, f"{operation} ?{name} with an empty value")
                continue
            # Given twice, any other parameter is a 400 naming it (which value was meant?).
            response = send(client, operation, target, body, **{name: ["1", "2"]})
            recorder.check_names(response, name, f"{operation} ?{name} repeated")
        # A body field the operation does not know is a 400 naming it, not silently dropped.
        if body is not None:
            for unknown in ("bogus", "is_staff", "clientId", "__proto__"):
                response = send(client, operation, target, {**body, unknown: 1})
                recorder.check_names(response, unknown, f"{operation} body +{unknown}")
        if "ordering" in operation.query and "cursor" in operation.query:
            for value in ORDERING_VALUES:
                response = send(client, operation, target, None, ordering=value, cursor="")
                recorder.check(response, f"{operation} cursor ?ordering={value!r}")
                if response.status_code != 400:
                    recorder.broken.append(f"{operation} cursor ordering={value!r}")
    recorder.finish()


def test_bulk_rows_get_every_field_checked(world):
    """The parser limits and the numeric coercion of single writes, inside bulk rows: each bad
    value is its row's error naming the field (per-row mode), never a 500 or a written row."""
    from core.tests.schema_operations import _resolve

    recorder = Recorder("bulk rows")
    client = world["client"]
    shapes = ["[" * 3000 + "]" * 3000, '{"a":' * 100 + "1" + "}" * 100, '"\\ud800"']
    for operation in operations():
        if not _bulk(operation):
            continue
        target = url(operation, world)
        for name, node in bulk_row_fields(operation).items():
            schema = _resolve(node)
            if schema.get("readOnly"):
                continue
            refused = list(shapes)  # each is the row's error, or the parser's 400
            checked = []  # each must not break the service (some are valid numbers)
            if name == "embedding":
                for literal in NUMBER_LITERALS:
                    numbers = [json.dumps(x) for x in VECTOR]
                    numbers[7] = literal
                    checked.append("[" + ",".join(numbers) + "]")
            elif _numeric(schema):
                refused += (
                    NON_INTEGER_LITERALS if "integer" in _types(schema) else NON_NUMBER_LITERALS
                )
            for literal in [*refused, *checked]:
                row = with_raw(base_body(operation)["rows"][0], name, literal)
                response = send(client, operation, target, f'{{"atomic": false, "rows": [{row}]}}')
                what = f"{operation} row {name}={literal[:20]!r}"
                recorder.check(response, what)
                if literal in checked or (response.status_code == 400 and literal in shapes):
                    continue
                result = response.json()["results"][0] if response.status_code == 200 else {}
                if result.get("status") != "invalid" or name not in result.get("errors", {}):
                    recorder.broken.append(f"{what}: {response.status_code} {result}")
    recorder.finish()


def _masked(response) -> tuple[int, str]:
    """Status and body, with ids taken out (the id sent is echoed in messages)."""
    return response.status_code, re.sub(r"\d+", "N", response.content.decode())


def test_existence_oracles_another_clients_row_answers_as_no_row(world):
    recorder = Recorder("existence oracles")
    client = world["client"]
    for operation in operations():
        if not operation.has_id:
            continue
        body = base_body(operation) if operation.method in ("POST", "PUT", "PATCH") else None
        theirs = send(client, operation, url(operation, world, theirs=True), body)
        missing = send(client, operation, operation.path.replace("{id}", str(10**15)), body)
        recorder.check(theirs, f"{operation} their row")
        recorder.check(missing, f"{operation} no row")
        if _masked(theirs) != _masked(missing):
            recorder.broken.append(f"{operation}: {_masked(theirs)} != {_masked(missing)}")
    # References to another client's rows, in bodies and filters: as if they did not exist.
    rows = world["theirs"]
    references = {
        ("/api/issues/", "project_id"): rows[factory_for("/api/projects/")].pk,
        ("/api/pull-requests/", "issue_id"): rows[factory_for("/api/issues/")].pk,
    }
    for (path, name), their_id in references.items():
        for operation in operations():
            if operation.path != path or name not in (*operation.body, *operation.query):
                continue
            body = base_body(operation) if operation.method == "POST" else None
            answers = []
            for value in (their_id, 10**15):
                if name in operation.body:
                    answers.append(send(client, operation, path, {**(body or {}), name: value}))
                else:
                    answers.append(send(client, operation, path, body, **{name: str(value)}))
            for answer in answers:
                recorder.check(answer, f"{operation} {name}")
            if _masked(answers[0]) != _masked(answers[1]) and answers[0].status_code != 201:
                recorder.broken.append(f"{operation} {name}: {_masked(answers[0])}")
    # An email address: taken elsewhere or never seen, the same answer.
    elsewhere = UserFactory(client=world["theirs"][factory_for("/api/users/")].client)
    for email in (elsewhere.email, "never-seen@example.test"):
        answer = client.post("/api/users", {"email": email}, format="json")
        recorder.check(answer, f"POST /api/users email {email}")
        if answer.status_code != 201:
            recorder.broken.append(f"POST /api/users {email}: {answer.status_code}")
    recorder.finish()


def test_anonymous_callers_learn_nothing(world):
    recorder = Recorder("anonymous disclosure")
    anonymous = world["anonymous"]
    for operation in operations():
        body = base_body(operation) if operation.method in ("POST", "PUT", "PATCH") else None
        if operation.public:
            body = {"email": "nobody@example.test", "password": "made-up-password", "client_id": 1}
        for theirs in (False, True):
            response = send(anonymous, operation, url(operation, world, theirs=theirs), body)
            recorder.check(response, f"anonymous {operation}")
            if operation.public:
                # Asking for a token: made-up credentials are refused without a word more.
                if response.status_code != 401 or set(response.json()) != {"detail", "fields"}:
                    recorder.broken.append(f"anonymous {operation}: {response.json()}")
                continue
            if response.status_code != 401 or set(response.json()) != {"detail"}:
                recorder.broken.append(f"anonymous {operation}: {response.status_code}")
    for path in ("/health/ready", "/health/database", "/health/ml", "/api/", "/"):
        response = anonymous.get(path)
        recorder.check(response, f"anonymous {path}")
        body = response.json()
        leaked = set(body) - {"status", "ready", "timestamp", "details", "links", "name"}
        if leaked:
            recorder.broken.append(f"anonymous {path} shows {sorted(leaked)}")
    recorder.finish()


UNKNOWN_PATHS = [
    "/api/nothing",
    "/api/issues/abc",
    "/api/issues/1.5",
    "/api/issues/-1",
    "/api/issues/1/nothing",
    "/api/issues/1/similar/1",
    "/api//issues",
    "/api/issues%00",
    "/api/ml",
    "/api/ml/nothing",
    "/api/ml/anomaly-alerts/x/acknowledge",
    "/api/users/me/nothing",
    "/api/schema/x",
    "/api/" + "x" * 2000,
    "/nothing",
    "/health/nothing",
    "/.env",
    "/favicon.ico",
    "/API/issues",
]
# Known paths that take GET and HEAD only.
READ_ONLY_PATHS = [
    "/",
    "/api/",
    "/health",
    "/health/ready",
    "/health/database",
    "/health/ml",
    "/api/schema/",
    "/api/docs/",
    "/api/redoc",
]
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def test_unknown_paths_and_methods_answer_json_404_and_405(world):
    """Paths outside the schema, with every method, by a caller and by no one: a JSON 404 (405
    naming the allowed methods for a known path), never a CSRF 403, an HTML page or a 500."""
    recorder = Recorder("unknown paths and methods")
    for who in ("client", "anonymous"):
        caller = world[who]
        for path, method in itertools.product(UNKNOWN_PATHS, METHODS):
            response = caller.generic(method, path, data="{}", content_type="application/json")
            recorder.check(response, f"{who} {method} {path}")
            if response.status_code != 404:
                recorder.broken.append(f"{who} {method} {path}: {response.status_code}")
            elif method != "HEAD" and response.json() != {"detail": "Not found."}:
                recorder.broken.append(f"{who} {method} {path}: {response.content[:80]!r}")
        # The schema's paths, methods they do not take: 405 naming the allowed ones.
        by_path: dict[str, set[str]] = {}
        for operation in operations():
            by_path.setdefault(url(operation, world), set()).add(operation.method)
        for path, offered in by_path.items():
            for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - offered):
                response = caller.generic(method, path, data="{}", content_type="application/json")
                recorder.check(response, f"{who} {method} {path}")
                if who == "anonymous":
                    continue  # 401 first: no method is allowed to no one
                if response.status_code != 405 or not response.json().get("allowed"):
                    recorder.broken.append(f"{who} {method} {path}: {response.status_code}")
        # Known paths, methods they do not take: 405 naming the allowed ones.
        for path, method in itertools.product(
            READ_ONLY_PATHS, ("POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND")
        ):
            response = caller.generic(method, path, data="{}", content_type="application/json")
            recorder.check(response, f"{who} {method} {path}")
            if response.status_code != 405 or response.json()["allowed"] != ["GET", "HEAD"]:
                recorder.broken.append(f"{who} {method} {path}: {response.status_code}")
    recorder.finish()
