"""The WSGI entry point for gunicorn (`api.wsgi:app`); each worker imports it, so each builds its own app."""

from api import create_app

app = create_app()
