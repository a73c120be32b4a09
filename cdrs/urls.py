"""OCPI routes of the cdrs module (filled in by its views)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
