from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
def index():
    return "Hello, world!"


# TODO: GET /hello/{name} should answer the JSON {"message": "Hello, <name>!"}
