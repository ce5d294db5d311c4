# Any ASGI app: here Starlette. uvicorn serves the callable named `app`.
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse("Hello, world!")


async def hello(request):
    name = request.path_params["name"]
    return JSONResponse({"message": f"Hello, {name}!"})


async def fallback(request):
    return PlainTextResponse("Hello, world!")


app = Starlette(
    routes=[
        Route("/", index),
        Route("/hello/{name}", hello),
        Route("/{path:path}", fallback),
    ]
)
