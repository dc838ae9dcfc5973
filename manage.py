#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    # Pointed at real servers (DATABASE_URL), a command runs with the production settings, as
    # the service does (a release job's migrate, create_api_user); on the embedded servers of a
    # checkout, with the development ones.
    default = "production" if os.environ.get("DATABASE_URL") else "development"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"config.settings.{default}")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration mistake is the operator's to fix: one line, no traceback.
        sys.exit(f"configuration error: {exc}")


if __name__ == "__main__":
    main()
