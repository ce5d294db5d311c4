from django.urls import path

from authoring import views

app_name = "teach"

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:course>/", views.course, name="course"),
]
