"""Django admin for projects."""

from django.contrib import admin

from projects.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Projects of every client."""

    list_display = ("key", "name", "project_type", "client", "active", "created_at")
    list_filter = ("project_type", "active", "client")
    list_select_related = ("client",)
    search_fields = ("key", "name", "external_id")
    # Embeddings are written through their own endpoint, not typed into a form.
    exclude = ("embedding",)
    readonly_fields = ("created_at", "last_updated_at")
