import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import Note


def read_note(request):
    """Return (fields, errors) for the JSON note in the request body; errors is empty when valid."""
    try:
        data = json.loads(request.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return {}, {"body": 'Send a JSON object such as {"title": "Shopping", "body": "Milk"}.'}
    errors = {}
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 100:
        errors["title"] = "Give a title of 1 to 100 characters."
    body = data.get("body", "")
    if not isinstance(body, str):
        errors["body"] = "The body must be a string."
    return {"title": title, "body": body}, errors


# This API is called by programs that send JSON, not by a browser form with a session
# cookie, so there is no CSRF token to check.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def note_collection(request):
    if request.method == "GET":
        notes = [note.as_dict() for note in Note.objects.order_by("id")]
        # safe=False allows a top-level list, which JsonResponse refuses by default.
        return JsonResponse(notes, safe=False)
    fields, errors = read_note(request)
    if errors:
        return JsonResponse({"detail": errors}, status=422)
    note = Note.objects.create(**fields)
    return JsonResponse(note.as_dict(), status=201)


@csrf_exempt
@require_http_methods(["GET", "PUT", "DELETE"])
def note_item(request, note_id):
    note = Note.objects.filter(pk=note_id).first()
    if note is None:
        return JsonResponse({"detail": "Note not found"}, status=404)
    if request.method == "DELETE":
        note.delete()
        return HttpResponse(status=204)
    if request.method == "PUT":
        fields, errors = read_note(request)
        if errors:
            return JsonResponse({"detail": errors}, status=422)
        note.title = fields["title"]
        note.body = fields["body"]
        note.save()
    return JsonResponse(note.as_dict())
