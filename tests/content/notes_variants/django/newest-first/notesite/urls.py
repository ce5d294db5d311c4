"""
URL configuration for notesite project.

The `urlpatterns` list routes URLs to views. For more information please see:
    https://docs.djangoproject.com/en/5.2/topics/http/urls/
"""

from django.contrib import admin
from django.urls import path
from notes import views

urlpatterns = [
    path("admin/", admin.site.urls),
    # No trailing slash: the API's paths are exactly /notes and /notes/<id>.
    path("notes", views.note_collection),
    path("notes/<int:note_id>", views.note_item),
]
