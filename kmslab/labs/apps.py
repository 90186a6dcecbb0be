from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "kmslab.labs"
