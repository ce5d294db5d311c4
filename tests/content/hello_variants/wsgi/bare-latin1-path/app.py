import json


def app(environ, start_response):
    path = environ["PATH_INFO"]
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
