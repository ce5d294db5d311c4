from django.db import models


class Book(models.Model):
    isbn = models.CharField(max_length=13, unique=True)
    title = models.CharField(max_length=200)
    author = models.CharField(max_length=100)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title

    def as_dict(self):
        return {"id": self.id, "isbn": self.isbn, "title": self.title, "author": self.author}
