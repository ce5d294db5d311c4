from django.urls import include, path

from authoring import views

app_name = "teach"

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("progress.teach_urls")),
    path("<slug:course>/", views.course, name="course"),
]
