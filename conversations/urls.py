"""Conversation pages."""

from __future__ import annotations

from django.urls import path

from conversations import views

app_name = "conversations"
urlpatterns = [
    path("", views.conversation_list, name="list"),
    path("live/", views.conversation_list_live, name="list-live"),
    path("with/<str:number>/", views.conversation_with, name="with"),
    path("<int:pk>/", views.conversation_thread, name="thread"),
    path("<int:pk>/live/", views.conversation_thread_live, name="live"),
    path("<int:pk>/read/", views.conversation_read, name="read"),
]
