from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "sessions"
    # "sessions" is django.contrib.sessions' label (the admin's login sessions).
    label = "charging_sessions"
    verbose_name = "Charging sessions"
