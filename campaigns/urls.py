"""Templates and bulk sends."""

from __future__ import annotations

from django.urls import path

from campaigns import template_views, views

app_name = "campaigns"
urlpatterns = [
    path("templates/", template_views.template_list, name="templates"),
    path("templates/new/", template_views.template_create, name="template-new"),
    path("templates/<int:pk>/", template_views.template_edit, name="template-edit"),
    path("templates/<int:pk>/delete/", template_views.template_delete, name="template-delete"),
    path("bulk/", views.bulk_list, name="bulk-list"),
    path("bulk/new/", views.bulk_new, name="bulk-new"),
    path("bulk/<int:pk>/", views.bulk_detail, name="bulk-detail"),
    path("bulk/<int:pk>/live/", views.bulk_live, name="bulk-live"),
    path("bulk/<int:pk>/results.csv", views.bulk_export, name="bulk-export"),
    path("bulk/<int:pk>/<str:action>/", views.bulk_action, name="bulk-action"),
]
