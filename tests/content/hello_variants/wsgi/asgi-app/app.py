# Any ASGI app: here Starlette. uvicorn serves the callable named `app`.
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse("Hello, world!")


async def hello(request):
    name = request.path_params["name"]
    return JSONResponse({"message": f"Hello, {name}!"})


app = Starlette(routes=[Route("/", index), Route("/hello/{name}", hello)])
