from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "Hello, world!"


# TODO: GET /hello/<name> should answer the JSON {"message": "Hello, <name>!"}
