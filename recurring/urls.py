"""Recurring sends."""

from __future__ import annotations

from django.urls import path

from recurring import views

app_name = "recurring"
urlpatterns = [
    path("", views.recurring_list, name="list"),
    path("new/", views.recurring_new, name="new"),
    path("<int:pk>/", views.recurring_detail, name="detail"),
    path("<int:pk>/edit/", views.recurring_edit, name="edit"),
    path("<int:pk>/<str:action>/", views.recurring_action, name="action"),
]
