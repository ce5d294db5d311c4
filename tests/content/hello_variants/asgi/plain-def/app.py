import json


def app(scope, receive, send):
    if scope["type"] != "http":
        return  # nothing to set up at start-up (the "lifespan" scope)
    path = scope["path"]  # ASGI gives the path decoded from UTF-8 already
    if path == "/":
        status, kind, body = 200, b"text/plain; charset=utf-8", "Hello, world!"
    elif path.startswith("/hello/") and len(path) > len("/hello/"):
        name = path[len("/hello/") :]
        status, kind = 200, b"application/json"
        body = json.dumps({"message": f"Hello, {name}!"})
    else:
        status, kind, body = 404, b"text/plain; charset=utf-8", "Not Found"
    data = body.encode("utf-8")
    headers = [(b"content-type", kind), (b"content-length", str(len(data)).encode())]
    send({"type": "http.response.start", "status": status, "headers": headers})
    send({"type": "http.response.body", "body": data})
