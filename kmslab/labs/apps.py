from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "kmslab.labs"

    def ready(self):
        from kmslab.sandboxes import runner

        from . import live

        if live.call_committed not in runner.committed_hooks:
            runner.committed_hooks.append(live.call_committed)
