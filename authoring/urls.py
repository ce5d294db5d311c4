from django.urls import path

from authoring import images, views

app_name = "teach"

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:course>/", views.course, name="course"),
    path("<slug:course>/images/", images.image_upload, name="image_upload"),
]
