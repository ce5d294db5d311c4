import json
import re

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from .models import Book

ISBN = re.compile(r"[0-9]{13}")  # [0-9], not \d: \d also matches digits of other scripts
MAX_IMPORT = 50


class Invalid(Exception):
    """The request body breaks the rules; answered with 400."""


def read_json(request):
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("The body must be JSON.") from None


def checked_book(data) -> dict:
    """Return the book's fields from a JSON value, or raise Invalid saying what is wrong."""
    if not isinstance(data, dict):
        raise Invalid("A book is a JSON object with isbn, title and author.")
    isbn, title, author = data.get("isbn"), data.get("title"), data.get("author")
    if not isinstance(isbn, str) or not ISBN.fullmatch(isbn):
        raise Invalid("The isbn must be a string of 13 digits.")
    if not isinstance(title, str) or not 1 <= len(title) <= 200:
        raise Invalid("The title must be a string of 1 to 200 characters.")
    if not isinstance(author, str) or not 1 <= len(author) <= 100:
        raise Invalid("The author must be a string of 1 to 100 characters.")
    return {"isbn": isbn, "title": title, "author": author}


def invalid(error):
    return JsonResponse({"detail": str(error)}, status=400)


def isbn_taken():
    return JsonResponse({"detail": "A book with this ISBN is already on the shelf."}, status=409)


def not_found():
    return JsonResponse({"detail": "No such book."}, status=404)


# This API is called by programs that send JSON, not by a browser form with a session
# cookie, so there is no CSRF token to check.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def book_collection(request):
    if request.method == "GET":
        return JsonResponse([book.as_dict() for book in Book.objects.order_by("id")], safe=False)
    try:
        fields = checked_book(read_json(request))
    except Invalid as error:
        return invalid(error)
    try:
        # atomic(): the failed INSERT is rolled back on its own, leaving the connection usable.
        with transaction.atomic():
            book = Book.objects.create(**fields)
    except IntegrityError:
        return isbn_taken()
    return JsonResponse(book.as_dict(), status=201)


@csrf_exempt
@require_POST
def book_import(request):
    try:
        items = read_json(request)
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_IMPORT:
            raise Invalid(f"Send a JSON list of 1 to {MAX_IMPORT} books.")
        rows = [checked_book(item) for item in items]  # check them all before writing
    except Invalid as error:
        return invalid(error)
    try:
        with transaction.atomic():  # one transaction: every book is stored, or none
            books = [Book.objects.create(**fields) for fields in rows]
    except IntegrityError:
        return isbn_taken()
    return JsonResponse([book.as_dict() for book in books], safe=False, status=201)


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def book_item(request, book_id):
    book = Book.objects.filter(id=book_id).first()
    if book is None:
        return not_found()
    if request.method == "DELETE":
        book.delete()
        return HttpResponse(status=204)
    return JsonResponse(book.as_dict())
