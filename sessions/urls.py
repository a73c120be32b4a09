"""OCPI routes of the sessions module (filled in by its views)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
