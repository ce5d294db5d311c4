from django.http import HttpResponse


def index(request):
    return HttpResponse("Hello, world!")


# TODO: a view for GET /hello/<name> answering the JSON {"message": "Hello, <name>!"}
