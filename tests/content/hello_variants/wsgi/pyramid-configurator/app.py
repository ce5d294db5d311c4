from pyramid.config import Configurator
from pyramid.response import Response


def index(request):
    return Response("Hello, world!")


def hello(request):
    return {"message": f"Hello, {request.matchdict['name']}!"}


with Configurator() as config:
    config.add_route("index", "/")
    config.add_route("hello", "/hello/{name}")
    config.add_view(index, route_name="index")
    config.add_view(hello, route_name="hello", renderer="json")

app = config
