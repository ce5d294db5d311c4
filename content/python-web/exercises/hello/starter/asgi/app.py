# Any ASGI app: here Starlette, but FastAPI or a plain async function app(scope, receive, send)
# do as well. uvicorn serves the callable named `app`.
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse("Hello, world!")


# TODO: GET /hello/{name} should answer the JSON {"message": "Hello, <name>!"}
# (the name is in request.path_params["name"]; answer with a JSONResponse).

app = Starlette(routes=[Route("/", index)])
