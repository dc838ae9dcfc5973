"""ASGI entry point: production settings unless DJANGO_SETTINGS_MODULE names others; a
configuration error is one line (config/startup.py)."""

from config import startup

settings = startup.load_settings()

from core.handlers import get_asgi_application  # noqa: E402

application = startup.application(get_asgi_application)
