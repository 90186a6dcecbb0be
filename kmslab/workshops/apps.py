from django.apps import AppConfig


class WorkshopsConfig(AppConfig):
    name = "kmslab.workshops"

    def ready(self):
        from kmslab.labs import runs
        from kmslab.sandboxes import runner

        from . import live

        if live.call_committed not in runner.committed_hooks:
            runner.committed_hooks.append(live.call_committed)
        if live.progress_changed not in runs.progress_hooks:
            runs.progress_hooks.append(live.progress_changed)
