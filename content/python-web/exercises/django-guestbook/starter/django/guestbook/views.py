from django.shortcuts import render


def index(request):
    # TODO: on POST, check the entry with a ModelForm, save it and redirect back here.
    # TODO: list the entries stored in the database, newest first.
    return render(request, "guestbook/index.html", {"form": None, "entries": []})
