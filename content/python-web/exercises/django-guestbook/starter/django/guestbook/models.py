from django.db import models  # noqa: F401

# TODO: the Entry model (see the instructions), then `python manage.py makemigrations`.
