# Any WSGI app: here Bottle, but Pyramid, Flask or a plain function app(environ, start_response)
# do as well. gunicorn serves the callable named `app`.
from bottle import Bottle

app = Bottle()


@app.get("/")
def index():
    return "Hello, world!"


# TODO: GET /hello/<name> should answer the JSON {"message": "Hello, <name>!"}
