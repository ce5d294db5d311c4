from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
def index():
    return "Hello, world!"


@app.get("/hello/{name}")
def hello(name: str):
    return {"message": f"Hello, {name}!"}
