"""HTTP tests for the sign-up API: its validation errors and its OpenAPI document."""

import pytest
from grader import check, expect

ADA = {"name": "Ada Lovelace", "email": "ada@example.com", "age": 36}


def sign_up(client, **changes):
    return client.post("/signups", json={**ADA, **changes})


def created(client, **changes):
    """Create a sign-up for a test that is about something else; any 2xx status will do here."""
    r = sign_up(client, **changes)
    check(
        r.is_success,
        f"POST /signups: could not create a sign-up to test with: got status {r.status_code}. "
        f"Body: {r.text[:300]}",
    )
    return r.json()


def expect_invalid(r, loc):
    """Check for FastAPI's 422 answer, with an error whose `loc` points at the bad input."""
    expect(r, status=422)
    payload = r.json()
    detail = payload.get("detail") if isinstance(payload, dict) else None
    locs = [e.get("loc") for e in detail if isinstance(e, dict)] if isinstance(detail, list) else []
    where = f"{r.request.method} {r.request.url.raw_path.decode()}"
    check(loc in locs, f"{where}: expected an error with loc {loc}, got errors at {locs}")


# Creating and reading ----------------------------------------------------------------------


@pytest.mark.points(2)
def test_create_returns_201_and_the_signup(client):
    """POST /signups answers 201 with the sign-up, its id, and the ticket "standard"."""
    body = expect(sign_up(client), status=201).json()
    check(
        isinstance(body, dict) and isinstance(body.get("id"), int),
        f"POST /signups: expected a sign-up with a whole-number id, got {body!r}",
    )
    expected = {**ADA, "ticket": "standard"}
    got = {k: body.get(k) for k in expected}
    check(
        got == expected,
        f"POST /signups: expected {expected} (ticket defaults to standard), got {got}",
    )


def test_get_returns_the_signup(client):
    """GET /signups/<id> answers 200 with the sign-up."""
    signup = created(client, name="Grace Hopper", email="grace@example.com", ticket="vip")
    expect(client.get(f"/signups/{signup['id']}"), status=200, json=signup)


def test_get_unknown_signup_is_404(client):
    """GET /signups/<id> answers 404 when there is no such sign-up."""
    expect(client.get("/signups/999999"), status=404)


def test_list_filters_by_ticket(client):
    """GET /signups?ticket=vip lists only vip sign-ups."""
    vip = created(client, name="Vip Guest", ticket="vip")
    created(client, name="Standard Guest", ticket="standard")
    listed = expect(client.get("/signups", params={"ticket": "vip"}), status=200).json()
    check(isinstance(listed, list), f"GET /signups?ticket=vip: expected a list, got {listed!r}")
    tickets = sorted({str(s.get("ticket")) for s in listed})
    ids = [s.get("id") for s in listed]
    check(
        tickets == ["vip"] and vip["id"] in ids,
        f"GET /signups?ticket=vip: expected only vip sign-ups, including id {vip['id']}; "
        f"got the tickets {tickets} and the ids {ids}",
    )


def test_list_limit_caps_the_number_of_results(client):
    """GET /signups?limit=2 lists at most 2 sign-ups."""
    for i in range(3):
        created(client, name=f"Guest {i}")
    listed = expect(client.get("/signups", params={"limit": 2}), status=200).json()
    count = len(listed) if isinstance(listed, list) else listed
    check(count == 2, f"GET /signups?limit=2: expected 2 sign-ups, got {count!r}")


def test_age_of_13_is_accepted(client):
    """POST /signups accepts the age 13."""
    expect(sign_up(client, age=13), status=201)


# Validation errors -------------------------------------------------------------------------


def test_missing_field_is_422_at_its_location(client):
    """A sign-up without an email answers 422 at ["body", "email"]."""
    data = {k: v for k, v in ADA.items() if k != "email"}
    expect_invalid(client.post("/signups", json=data), ["body", "email"])


def test_empty_name_is_422(client):
    """An empty name answers 422 at ["body", "name"]."""
    expect_invalid(sign_up(client, name=""), ["body", "name"])


@pytest.mark.visibility("hidden")
def test_name_over_50_characters_is_422(client):
    """A 51-character name answers 422 at ["body", "name"]."""
    expect_invalid(sign_up(client, name="x" * 51), ["body", "name"])


def test_invalid_email_is_422(client):
    """The email "not-an-email" answers 422 at ["body", "email"]."""
    expect_invalid(sign_up(client, email="not-an-email"), ["body", "email"])


def test_age_under_13_is_422(client):
    """The age 12 answers 422 at ["body", "age"]."""
    expect_invalid(sign_up(client, age=12), ["body", "age"])


@pytest.mark.visibility("hidden")
def test_age_over_120_is_422(client):
    """The age 121 answers 422 at ["body", "age"]."""
    expect_invalid(sign_up(client, age=121), ["body", "age"])


@pytest.mark.visibility("hidden")
def test_age_that_is_not_a_number_is_422(client):
    """The age "thirty" answers 422 at ["body", "age"]."""
    expect_invalid(sign_up(client, age="thirty"), ["body", "age"])


def test_unknown_ticket_is_422(client):
    """The ticket "gold" answers 422 at ["body", "ticket"]."""
    expect_invalid(sign_up(client, ticket="gold"), ["body", "ticket"])


@pytest.mark.visibility("hidden")
def test_limit_out_of_range_is_422(client):
    """GET /signups?limit=0 and ?limit=101 answer 422 at ["query", "limit"]."""
    expect_invalid(client.get("/signups", params={"limit": 0}), ["query", "limit"])
    expect_invalid(client.get("/signups", params={"limit": 101}), ["query", "limit"])


# The OpenAPI document ----------------------------------------------------------------------


@pytest.fixture
def openapi(client):
    doc = expect(client.get("/openapi.json"), status=200).json()
    check(isinstance(doc, dict), "GET /openapi.json: expected a JSON object")
    return doc


def resolve(doc, schema):
    """Follow $ref (and a one-item allOf) to the schema they point at."""
    while isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            target = doc.get("components", {}).get("schemas", {}).get(name, {})
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        elif len(schema.get("allOf", [])) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
        else:
            return schema
    return {}


def operation(doc, path, method):
    found = doc.get("paths", {}).get(path, {}).get(method)
    check(
        isinstance(found, dict),
        f"GET /openapi.json: no {method.upper()} {path} in the paths; "
        f"found {sorted(doc.get('paths', {}))}",
    )
    return found


def test_openapi_names_the_api(openapi):
    """/openapi.json names the API "Event sign-ups", version 1.0.0."""
    info = openapi.get("info", {})
    got = (info.get("title"), info.get("version"))
    check(
        got == ("Event sign-ups", "1.0.0"),
        f"GET /openapi.json: expected the title 'Event sign-ups' and version '1.0.0', got {got}",
    )


def test_openapi_lists_the_operations(openapi):
    """/openapi.json lists POST /signups, GET /signups and GET /signups/{signup_id}."""
    operation(openapi, "/signups", "post")
    operation(openapi, "/signups", "get")
    operation(openapi, "/signups/{signup_id}", "get")


def test_openapi_documents_201_and_404(openapi):
    """/openapi.json documents 201 for POST /signups and 404 for GET /signups/{signup_id}."""
    created_codes = sorted(operation(openapi, "/signups", "post").get("responses", {}))
    check(
        "201" in created_codes,
        f"GET /openapi.json: POST /signups should document 201; it documents {created_codes}",
    )
    get_codes = sorted(operation(openapi, "/signups/{signup_id}", "get").get("responses", {}))
    check(
        "404" in get_codes,
        "GET /openapi.json: GET /signups/{signup_id} should document 404; "
        f"it documents {get_codes}",
    )


@pytest.mark.points(2)
def test_openapi_request_schema_holds_the_rules(openapi):
    """/openapi.json describes every rule of the sign-up body."""
    body = operation(openapi, "/signups", "post").get("requestBody", {})
    schema = resolve(openapi, body.get("content", {}).get("application/json", {}).get("schema", {}))
    props = {k: resolve(openapi, v) for k, v in schema.get("properties", {}).items()}
    problems = []
    if set(schema.get("required", [])) != {"name", "email", "age"}:
        problems.append(f"required should be name, email and age, not {schema.get('required')}")
    name = props.get("name", {})
    if (name.get("minLength"), name.get("maxLength")) != (1, 50):
        problems.append("name should have minLength 1 and maxLength 50")
    if props.get("email", {}).get("format") != "email":
        problems.append("email should have the format 'email'")
    age = props.get("age", {})
    if age.get("minimum", age.get("exclusiveMinimum", -1) + 1) != 13:
        problems.append("age should have the minimum 13")
    if age.get("maximum", age.get("exclusiveMaximum", 0) - 1) != 120:
        problems.append("age should have the maximum 120")
    ticket = props.get("ticket", {})
    if set(ticket.get("enum", [])) != {"standard", "vip"} or ticket.get("default") != "standard":
        problems.append("ticket should be one of standard and vip, with the default standard")
    check(not problems, "GET /openapi.json: in the POST /signups body, " + "; ".join(problems))


@pytest.mark.visibility("hidden")
def test_openapi_documents_the_query_parameters(openapi):
    """/openapi.json describes the query parameters ticket and limit of GET /signups."""
    params = {p.get("name"): p for p in operation(openapi, "/signups", "get").get("parameters", [])}
    limit = params.get("limit", {})
    schema = resolve(openapi, limit.get("schema", {}))
    got = (limit.get("in"), schema.get("minimum"), schema.get("maximum"), schema.get("default"))
    check(
        got == ("query", 1, 100, 20),
        "GET /openapi.json: GET /signups should take a query parameter limit with minimum 1, "
        f"maximum 100 and default 20; got (in, minimum, maximum, default) = {got}",
    )
    check("ticket" in params, "GET /openapi.json: GET /signups should take a ticket parameter")
