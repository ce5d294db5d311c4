"""
URL configuration for idsite project.

The `urlpatterns` list routes URLs to views. For more information please see:
    https://docs.djangoproject.com/en/5.2/topics/http/urls/
"""

from django.contrib import admin
from django.urls import path
from hello import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("hello", views.hello),
    path("slow", views.slow),
]
