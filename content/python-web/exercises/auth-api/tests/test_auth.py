"""HTTP tests for the auth API; the same tests grade the Flask, Django and FastAPI versions.

The tests share one running app, so users made by one test are still there in the next: each
test registers users with fresh random names and uses the tokens it gets back.
"""

import hashlib
import json
import re
import secrets

import pytest
from grader import check, expect, precondition

INVALID = (400, 422)
PASSWORD = "correct horse battery staple"  # noqa: S105  (a test password)


def where(r):
    return f"{r.request.method} {r.request.url.path}"


def fresh_name(prefix="user"):
    """Return a username no other test uses, such as "user_3f9a0c1d"."""
    return f"{prefix}_{secrets.token_hex(4)}"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def expect_user(r, username):
    """Check that the answer is {"id": <int>, "username": username}, and return it."""
    user = r.json()
    check(
        isinstance(user, dict) and {"id", "username"} <= set(user),
        f'{where(r)}: expected {{"id": ..., "username": ...}}, got {user!r}',
    )
    check(
        isinstance(user["id"], int) and not isinstance(user["id"], bool),
        f"{where(r)}: the id must be a whole number, got {user['id']!r}",
    )
    check(
        user["username"] == username,
        f"{where(r)}: expected the username {username!r}, got {user['username']!r}",
    )
    return user


def register(client, username=None, password=PASSWORD):
    """Register a user for a test that is about something else, and return it."""
    username = username or fresh_name()
    with precondition(f"register {username!r} to test with"):
        r = expect(
            client.post("/register", json={"username": username, "password": password}),
            status=201,
        )
        return expect_user(r, username)


def log_in(client, username, password=PASSWORD):
    """Log in for a test that is about something else, and return the token."""
    with precondition(f"log in as {username!r} to test with"):
        r = expect(
            client.post("/login", json={"username": username, "password": password}), status=200
        )
        token = r.json().get("token") if isinstance(r.json(), dict) else None
        check(
            isinstance(token, str),
            f'POST /login: expected {{"token": "..."}}, got {r.text[:200]}',
            cause='POST /login answered no {"token": "..."}',
        )
        return token


def expect_unauthorized(r):
    """401 with a WWW-Authenticate header naming the Bearer scheme."""
    expect(r, status=401)
    challenge = r.headers.get("WWW-Authenticate", "")
    check(
        challenge.split(" ")[0].lower() == "bearer",
        f"{where(r)}: a 401 answer must carry the header WWW-Authenticate: Bearer, "
        f"got {challenge or 'none'}",
    )


def expect_me(client, token, user):
    r = expect(client.get("/me", headers=bearer(token)), status=200)
    check(expect_user(r, user["username"])["id"] == user["id"], f"GET /me: wrong id: {r.text}")


# Registering ---------------------------------------------------------------------------


@pytest.mark.points(2)
def test_register_answers_201_with_id_and_username(client):
    """POST /register answers 201 with the new user's id and username."""
    username = fresh_name()
    r = client.post("/register", json={"username": username, "password": PASSWORD})
    expect(r, status=201)
    expect_user(r, username)


def test_register_accepts_usernames_of_3_and_30_characters(client):
    """POST /register accepts usernames of 3 and of 30 characters."""
    for username in ("u" + secrets.token_hex(1), "u_" + secrets.token_hex(14)):
        r = client.post("/register", json={"username": username, "password": PASSWORD})
        expect(r, status=201)


@pytest.mark.points(2)
def test_register_rejects_a_taken_username(client):
    """POST /register with a username that is taken answers 409."""
    user = register(client)
    r = client.post("/register", json={"username": user["username"], "password": PASSWORD})
    expect(r, status=409)


@pytest.mark.points(2)
@pytest.mark.visibility("hidden")
@pytest.mark.hint("Ada and ada are the same person")
def test_usernames_are_unique_regardless_of_case(client):
    """A username that differs from a taken one only in case is taken too (409)."""
    user = register(client, fresh_name("Case"))
    for other in (user["username"].lower(), user["username"].upper()):
        r = client.post("/register", json={"username": other, "password": PASSWORD})
        check(
            r.status_code == 409,
            f"POST /register: {user['username']!r} is taken, so {other!r} must be refused "
            f"with 409; got {r.status_code}",
        )


def test_passwords_need_at_least_8_characters(client):
    """POST /register refuses a password of 7 characters (400 or 422) and takes one of 8."""
    expect(
        client.post("/register", json={"username": fresh_name(), "password": "7 chars"}),
        status=INVALID,
    )
    expect(
        client.post("/register", json={"username": fresh_name(), "password": "8 chars!"}),
        status=201,
    )


@pytest.mark.visibility("hidden")
def test_register_rejects_usernames_outside_the_rules(client):
    """Usernames must be 3 to 30 ASCII letters, digits or underscores."""
    for username in (
        "ab",
        "u" * 31,
        "",
        "with space",
        "dash-name",
        "semi;colon",
        "trailing_newline\n",
        "jos\u00e9",
    ):
        r = client.post("/register", json={"username": username, "password": PASSWORD})
        check(
            r.status_code in INVALID,
            f"POST /register: the username {username!r} breaks the rules and must be refused "
            f"with 400 or 422; got {r.status_code}",
        )


def test_register_rejects_an_invalid_body(client):
    """POST /register answers 400 or 422 for a body that is not the expected JSON object."""
    for body in (
        ["not", "an", "object"],
        {"username": fresh_name()},
        {"username": fresh_name(), "password": 123456789},
        {"username": 123, "password": PASSWORD},
    ):
        r = client.post("/register", json=body)
        check(
            r.status_code in INVALID,
            f"POST /register with {json.dumps(body)}: expected 400 or 422, got {r.status_code}",
        )


# Logging in ----------------------------------------------------------------------------


@pytest.mark.points(2)
def test_login_answers_200_with_a_token(client):
    """POST /login answers 200 with {"token": ...} of at least 32 characters."""
    user = register(client)
    r = client.post("/login", json={"username": user["username"], "password": PASSWORD})
    expect(r, status=200)
    body = r.json()
    token = body.get("token") if isinstance(body, dict) else None
    check(
        isinstance(token, str) and len(token) >= 32,
        f'POST /login: expected {{"token": "<at least 32 characters>"}}, got {r.text[:200]}',
    )


@pytest.mark.visibility("hidden")
def test_each_login_gets_a_new_random_token(client):
    """Every login makes a new token that is not derived from the username or password."""
    user = register(client)
    first, second = log_in(client, user["username"]), log_in(client, user["username"])
    check(first != second, "POST /login: two logins of the same user got the same token")
    for token in (first, second):
        check(
            user["username"].lower() not in token.lower() and PASSWORD not in token,
            f"POST /login: the token {token!r} contains the username or the password",
        )
        for made in (hashlib.sha256, hashlib.md5, hashlib.sha1):
            for text in (user["username"], user["username"] + PASSWORD, PASSWORD):
                check(
                    made(text.encode()).hexdigest() not in token,
                    f"POST /login: the token {token!r} is a hash of the username or "
                    "password, which anyone can compute: make it random",
                )


def test_login_with_a_wrong_password_is_401(client):
    """POST /login with a wrong password answers 401."""
    user = register(client)
    r = client.post("/login", json={"username": user["username"], "password": "not the one!"})
    expect(r, status=401)


def test_login_with_an_unknown_user_is_401(client):
    """POST /login with a username nobody registered answers 401."""
    r = client.post("/login", json={"username": fresh_name("nobody"), "password": PASSWORD})
    expect(r, status=401)


@pytest.mark.visibility("hidden")
@pytest.mark.hint("a failed login should not tell which usernames exist")
def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    """A wrong password and an unknown user get the same status and body."""
    user = register(client)
    wrong = client.post("/login", json={"username": user["username"], "password": "nope-nope"})
    unknown = client.post("/login", json={"username": fresh_name("nobody"), "password": "x" * 9})
    check(
        (wrong.status_code, wrong.text) == (unknown.status_code, unknown.text),
        "POST /login: a wrong password got "
        f"{wrong.status_code} {wrong.text[:120]!r} but an unknown user got "
        f"{unknown.status_code} {unknown.text[:120]!r}; answer both the same, or the "
        "difference tells an attacker which usernames exist",
    )


# Who am I? -----------------------------------------------------------------------------


@pytest.mark.points(2)
def test_me_answers_the_user_of_the_token(client):
    """GET /me with a valid token answers 200 with that user's id and username."""
    user = register(client)
    other = register(client)
    expect_me(client, log_in(client, user["username"]), user)
    expect_me(client, log_in(client, other["username"]), other)


def test_me_without_a_token_is_401_with_www_authenticate(client):
    """GET /me without an Authorization header answers 401 with WWW-Authenticate: Bearer."""
    expect_unauthorized(client.get("/me"))


def test_me_with_an_unknown_token_is_401(client):
    """GET /me with a token the app never gave answers 401 with WWW-Authenticate: Bearer."""
    expect_unauthorized(client.get("/me", headers=bearer(secrets.token_urlsafe(32))))


@pytest.mark.visibility("hidden")
def test_me_with_a_malformed_authorization_header_is_401(client):
    """GET /me answers 401 to an Authorization header that is not "Bearer <token>"."""
    user = register(client)
    token = log_in(client, user["username"])
    for header in ("Bearer", token, f"Token {token}", f"Basic {token}"):
        r = client.get("/me", headers={"Authorization": header})
        check(
            r.status_code == 401,
            f"GET /me with the header Authorization: {header!r}: expected 401, got {r.status_code}",
        )
        expect_unauthorized(r)


# Logging out ---------------------------------------------------------------------------


def test_logout_answers_204(client):
    """POST /logout with a valid token answers 204."""
    user = register(client)
    token = log_in(client, user["username"])
    expect(client.post("/logout", headers=bearer(token)), status=204)


@pytest.mark.points(2)
def test_a_token_stops_working_after_logout(client):
    """After POST /logout, GET /me with the same token answers 401."""
    user = register(client)
    token = log_in(client, user["username"])
    expect_me(client, token, user)
    client.post("/logout", headers=bearer(token))
    expect_unauthorized(client.get("/me", headers=bearer(token)))


@pytest.mark.points(2)
@pytest.mark.visibility("hidden")
def test_logout_leaves_the_users_other_tokens_working(client):
    """Logging out one token keeps the same user's other tokens working."""
    user = register(client)
    phone, laptop = log_in(client, user["username"]), log_in(client, user["username"])
    expect(client.post("/logout", headers=bearer(phone)), status=204)
    expect_me(client, laptop, user)


@pytest.mark.visibility("hidden")
def test_logout_without_a_valid_token_is_401(client):
    """POST /logout without a token, or with an unknown one, answers 401."""
    expect_unauthorized(client.post("/logout"))
    expect_unauthorized(client.post("/logout", headers=bearer(secrets.token_urlsafe(32))))


# Secrets stay secret -------------------------------------------------------------------

HASH_MARKERS = re.compile(r"pbkdf2|scrypt|argon2|bcrypt|\$2[aby]\$", re.IGNORECASE)


def keys_of(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from keys_of(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys_of(inner)


def expect_no_secret(r, password):
    """Check that an answer shows neither the password nor anything like a hash of it."""
    shown = r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items())
    check(password not in shown, f"{where(r)}: the answer contains the password: {r.text[:200]}")
    digests = [made(password.encode()).hexdigest() for made in (hashlib.sha256, hashlib.md5)]
    check(
        not HASH_MARKERS.search(shown) and not any(d in shown.lower() for d in digests),
        f"{where(r)}: the answer contains a password hash: {r.text[:200]}",
    )
    try:
        body = json.loads(r.text) if r.text else None
    except ValueError:
        body = None
    leaky = [k for k in keys_of(body) if "password" in k.lower() or "hash" in k.lower()]
    check(not leaky, f"{where(r)}: the answer has the field(s) {leaky}: {r.text[:200]}")


@pytest.mark.points(2)
@pytest.mark.visibility("hidden")
def test_no_answer_contains_the_password_or_its_hash(client):
    """No answer of /register, /login, /me or /logout shows the password or its hash."""
    password = "Tr0ub4dor&3-" + secrets.token_hex(4)
    username = fresh_name()
    answers = [client.post("/register", json={"username": username, "password": password})]
    answers.append(client.post("/register", json={"username": username, "password": password}))
    answers.append(client.post("/login", json={"username": username, "password": password}))
    token = answers[-1].json().get("token", "") if answers[-1].status_code == 200 else ""
    answers.append(client.post("/login", json={"username": username, "password": password[:-1]}))
    answers.append(client.get("/me", headers=bearer(token)))
    answers.append(client.post("/logout", headers=bearer(token)))
    for r in answers:
        expect_no_secret(r, password)


@pytest.mark.visibility("hidden")
def test_a_refused_registration_does_not_echo_the_password(client):
    """The 400 or 422 answer to an invalid registration does not repeat the password."""
    secret = "s3cret" + secrets.token_hex(4)
    for body in (
        {"username": fresh_name(), "password": secret[:7]},
        {"username": "no spaces allowed", "password": secret},
        {"password": secret},
    ):
        r = client.post("/register", json=body)
        check(r.status_code in INVALID, f"POST /register with {body}: expected 400 or 422")
        expect_no_secret(r, body["password"])
