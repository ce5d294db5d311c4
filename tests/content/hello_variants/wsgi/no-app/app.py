# Any WSGI app: here Bottle. gunicorn serves the callable named `app`.
from bottle import Bottle

application = Bottle()


@application.get("/")
def index():
    return "Hello, world!"


@application.get("/hello/<name>")
def hello(name):
    return {"message": f"Hello, {name}!"}
