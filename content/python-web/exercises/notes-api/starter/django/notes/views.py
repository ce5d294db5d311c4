import json  # noqa: F401  (you will need it to read the request body)

from django.http import HttpResponse, JsonResponse  # noqa: F401
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import Note


def not_done_yet():
    return JsonResponse({"detail": "Not implemented yet"}, status=501)


# This API is called by programs that send JSON, not by a browser form with a session
# cookie, so there is no CSRF token to check.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def note_collection(request):
    if request.method == "GET":
        notes = [note.as_dict() for note in Note.objects.order_by("id")]
        # safe=False allows a top-level list, which JsonResponse refuses by default.
        return JsonResponse(notes, safe=False)
    # TODO: validate the JSON body, create the note, answer 201 with it.
    return not_done_yet()


@csrf_exempt
@require_http_methods(["GET", "PUT", "DELETE"])
def note_item(request, note_id):
    # TODO: answer the note (GET), update it (PUT) or delete it (DELETE); 404 if it does not exist.
    return not_done_yet()
