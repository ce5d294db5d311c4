"""
URL configuration for shelfsite project.

The `urlpatterns` list routes URLs to views. For more information please see:
    https://docs.djangoproject.com/en/5.2/topics/http/urls/
"""

from books import views
from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
    # No trailing slash: the API's paths are exactly /books, /books/import and /books/<id>.
    path("books", views.book_collection),
    path("books/import", views.book_import),
    path("books/<int:book_id>", views.book_item),
]
