"""The search page: full-text search over the published lessons and exercises."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from search import index as course_search

RESULT_LIMIT = 20


def search(request: HttpRequest) -> HttpResponse:
    """Show the results for ?q=; htmx requests get only the results list."""
    query = request.GET.get("q", "").strip()[: course_search.MAX_QUERY_CHARS]
    hits = course_search.search(query, user=request.user, limit=RESULT_LIMIT)
    # A history restore asks for the whole page even though htmx sends it.
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    template = "search/search_results.html" if partial else "search/search.html"
    context = {
        "query": query,
        "hits": hits,
        "limit": RESULT_LIMIT,
        "max_query_chars": course_search.MAX_QUERY_CHARS,
        "partial": partial,
    }
    response = render(request, template, context)
    # The same URL returns a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response
