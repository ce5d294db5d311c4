# Any WSGI app: here Bottle. gunicorn serves the callable named `app`.
from bottle import Bottle, jsonify

app = Bottle()


@app.get("/")
def index():
    return "Hello, world!"


@app.get("/hello/<name>")
def hello(name):
    return jsonify(message=f"Hello, {name}!")
