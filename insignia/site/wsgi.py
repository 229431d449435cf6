"""WSGI entry point (``insignia serve`` runs it under gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insignia.site.settings")
application = get_wsgi_application()
