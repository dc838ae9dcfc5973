"""ML monitoring URLs under ``/api/ml/``, with or without a trailing slash."""

from core.api.routers import OptionalSlashRouter
from mlmonitoring.views import AnomalyAlertViewSet, LearningMemoryViewSet, PredictionLogViewSet

router = OptionalSlashRouter()
router.register("learning-memory", LearningMemoryViewSet, basename="ml-learning-memory")
router.register("prediction-logs", PredictionLogViewSet, basename="ml-prediction-log")
router.register("anomaly-alerts", AnomalyAlertViewSet, basename="ml-anomaly-alert")

urlpatterns = router.urls
