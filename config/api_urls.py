"""The domain API: ``/api/<resource>`` and ``/api/<resource>/<id>``, with or without a trailing slash."""

from core.api.routers import OptionalSlashRouter
from issues.views import IssueViewSet
from projects.views import ProjectViewSet
from pullrequests.views import PullRequestViewSet
from users.views import UserViewSet

router = OptionalSlashRouter()
router.register("issues", IssueViewSet, basename="issue")
router.register("pull-requests", PullRequestViewSet, basename="pullrequest")
router.register("projects", ProjectViewSet, basename="project")
router.register("users", UserViewSet, basename="user")

urlpatterns = router.urls
