from django.shortcuts import redirect, render

from .forms import EntryForm
from .models import Entry


def index(request):
    if request.method == "POST":
        form = EntryForm(request.POST)
        if form.is_valid():
            form.save()
            # Redirect after a successful POST, so reloading the page does not post again.
            return redirect("guestbook:index")
    else:
        form = EntryForm()
    return render(request, "guestbook/index.html", {"form": form, "entries": Entry.objects.all()})
