# Any WSGI app: here Bottle. gunicorn serves the callable named `app`.
from bottle import Bottle

app = Bottle()


@app.get("/")
def index():
    return "Hello, world!"


@app.get("/hello/<name>")
def hello(name):
    return {"message": f"Hello, {name}!"}
