"""The app as a WSGI object for serving from the project folder: `gunicorn wsgi:app` (the
benchmark does). Not part of the installed package: production and the Makefile use Flask's
factory convention instead, `gunicorn "clinic:create_app()"` and `flask --app clinic ...`,
which work from any directory."""

from clinic import create_app

app = create_app()
