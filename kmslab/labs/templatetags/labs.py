"""{% lab_panel %}: the side panel on every console page of a sandbox that is a lab run."""
from django import template

from ..models import LabRun
from .. import catalog, pages

register = template.Library()


@register.inclusion_tag("labs/_panel.html", takes_context=True)
def lab_panel(context):
    return context["lab_panel"]


@register.simple_tag(takes_context=True)
def lab_run_context(context, sandbox):
    """The panel's context when `sandbox` is a lab run, else None (the page then has no panel)."""
    run = LabRun.objects.filter(pk=sandbox.pk).select_related("sandbox").first()
    if run is None or catalog.get(run.lab) is None:
        return None
    return pages.run_context(context["request"], run)
