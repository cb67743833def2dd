#!/usr/bin/env python3
"""Makes the lecture's Django site's database, as Django itself writes it:
migrate, then people and articles made through Django's ORM.

    DJANGO_DB=sqlite:/tmp/site.sqlite3 python3 populate.py
    DJANGO_DB=postgres://postgres@127.0.0.1:5432/djangosite python3 populate.py

Needs Debian's python3-django (3.2), python3-bcrypt, python3-argon2 and, for
PostgreSQL, python3-psycopg2. The people and their passwords are the
tests' (models/djimport/djangotest)."""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402

from account.models import EmailAddress  # noqa: E402
from articles.models import Article  # noqa: E402

call_command("migrate", verbosity=0)

joined = datetime.datetime(2024, 3, 1, 9, 30, tzinfo=datetime.timezone.utc)


def person(username, password=None, hasher="default", email="", **fields):
    u = User(username=username, email=email, date_joined=joined, **fields)
    if password is None:
        u.set_unusable_password()
    else:
        u.password = make_password(password, hasher=hasher)
    u.save()
    return u


alice = person("alice", "alice django pw 1", email="Alice@Example.com", first_name="Alice", last_name="Kim",
               is_staff=True, is_superuser=True, last_login=joined + datetime.timedelta(days=3))
bob = person("bob", "bob django pw 2", "argon2", email="bob@example.com", is_staff=True)
carol = person("carol", "carol django pw 3", "bcrypt_sha256", email="carol@example.com")
person("dave", "dave django pw 4", email="dave@example.com", is_active=False)
person("erin", None, email="erin@example.com")
jeongwoo = person("정우", "정우 장고 비번 5", "pbkdf2_sha1", email="jeongwoo@example.com", first_name="정우")
badname = person("bad name!", "bad name pw 6", email="bad@example.com")
person("mallory", "mallory pw 7", "md5", email="mallory@example.com")
person("ALICE", "other alice pw 8", email="alice.other@example.com")
frank = person("frank", "frank django pw 9", email="alice@example.com")

# allauth's verified primary addresses: alice's (in another letter case than
# auth_user's), and frank's, which is alice's address too.
EmailAddress.objects.create(user=alice, email="alice@example.com", verified=True, primary=True)
EmailAddress.objects.create(user=frank, email="alice@example.com", verified=True, primary=True)
EmailAddress.objects.create(user=carol, email="carol@example.com", verified=False, primary=True)

Article.objects.create(title="첫 글", content="안녕하세요, 장고에서 왔습니다.", author=alice)
Article.objects.create(title="Hello from Django", content="Written in the lecture's app.", author=carol)
Article.objects.create(title="정우의 글", content="한국어 내용", author=jeongwoo)
Article.objects.create(title="Nobody's", content="An article without an author.", author=None)
Article.objects.create(title="From a bad name", content="Its author's name is refused.", author=badname)
print("made", User.objects.count(), "people and", Article.objects.count(), "articles")
