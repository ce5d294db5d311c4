import hashlib

from django.db import models
from django.db.models.functions import Lower


class Account(models.Model):
    username = models.CharField(max_length=30)
    # What make_password() returns ("pbkdf2_sha256$<iterations>$<salt>$<hash>"): never the password.
    password = models.CharField(max_length=128)

    class Meta:
        constraints = [
            # The database itself refuses "Ada" once "ada" exists, even when two sign-ups race.
            models.UniqueConstraint(Lower("username"), name="unique_username_in_any_case"),
        ]

    def __str__(self):
        return self.username

    def as_dict(self):
        """Return what may be shown of an account: never the password hash."""
        return {"id": self.id, "username": self.username}


class Token(models.Model):
    # SHA-256 of the token: someone who reads the table cannot log in with what is stored.
    digest = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tokens")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"a token of {self.account}"

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
