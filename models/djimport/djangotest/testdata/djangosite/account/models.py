"""django-allauth's EmailAddress, as its account_emailaddress table holds it
(allauth itself is not packaged by Debian)."""
from django.conf import settings
from django.db import models


class EmailAddress(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    email = models.EmailField(max_length=254)
    verified = models.BooleanField(default=False)
    primary = models.BooleanField(default=False)
