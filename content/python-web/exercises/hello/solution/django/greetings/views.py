from django.http import HttpResponse, JsonResponse


def index(request):
    return HttpResponse("Hello, world!")


def hello(request, name):
    return JsonResponse({"message": f"Hello, {name}!"})
