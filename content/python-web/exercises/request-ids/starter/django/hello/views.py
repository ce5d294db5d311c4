import time

from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def hello(request):
    # RequestIdMiddleware set request.request_id before this view was called.
    return JsonResponse({"message": "Hello!", "request_id": getattr(request, "request_id", None)})


@require_GET
def slow(request):
    time.sleep(0.3)
    return JsonResponse({"message": "Done"})
