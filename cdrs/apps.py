from django.apps import AppConfig


class CdrsConfig(AppConfig):
    name = "cdrs"
    verbose_name = "Charge detail records"
