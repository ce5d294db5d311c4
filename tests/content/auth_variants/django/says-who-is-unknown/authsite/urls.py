"""
URL configuration for authsite project.

The `urlpatterns` list routes URLs to views. For more information please see:
    https://docs.djangoproject.com/en/5.2/topics/http/urls/
"""

from django.contrib import admin
from django.urls import path

from accounts import views

urlpatterns = [
    path("admin/", admin.site.urls),
    # No trailing slash: the API's paths are exactly /register, /login, /me and /logout.
    path("register", views.register),
    path("login", views.login),
    path("me", views.me),
    path("logout", views.logout),
]
