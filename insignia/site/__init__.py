"""The Django project: settings, URLs, the API, jobs and the WSGI/ASGI entry points."""
