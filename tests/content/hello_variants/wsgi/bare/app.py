import json


def app(environ, start_response):
    # PEP 3333 hands the path over as latin-1; the client sent UTF-8.
    path = environ["PATH_INFO"].encode("latin-1").decode("utf-8")
    if path == "/":
        status, kind, body = "200 OK", "text/plain; charset=utf-8", "Hello, world!"
    elif path.startswith("/hello/") and len(path) > len("/hello/"):
        name = path[len("/hello/") :]
        status, kind = "200 OK", "application/json"
        body = json.dumps({"message": f"Hello, {name}!"})
    else:
        status, kind, body = "404 Not Found", "text/plain; charset=utf-8", "Not Found"
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(data)))])
    return [data]
