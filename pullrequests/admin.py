"""Django admin for pull requests."""

from django.contrib import admin

from pullrequests.models import PullRequest


@admin.register(PullRequest)
class PullRequestAdmin(admin.ModelAdmin):
    """Pull requests of every client."""

    list_display = ("__str__", "name", "status", "user_name", "issue", "client", "merged_at")
    list_filter = ("status", "active", "client")
    list_select_related = ("client", "issue")
    search_fields = ("repository", "name", "user_name", "external_id")
    raw_id_fields = ("issue",)
    # Embeddings are written through their own endpoint, not typed into a form.
    exclude = ("embedding",)
    readonly_fields = ("created_at", "last_updated_at")
