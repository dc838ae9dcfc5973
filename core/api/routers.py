"""A router whose URLs match with or without the trailing slash (``/api/issues`` and ``/api/issues/``)."""

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """SimpleRouter with an optional trailing slash."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
