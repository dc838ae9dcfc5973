"""ASGI entry point: production settings unless DJANGO_SETTINGS_MODULE names others; a
configuration error is one line (config/startup.py)."""

from django.core.asgi import get_asgi_application

from config import startup

application = startup.application(get_asgi_application)
