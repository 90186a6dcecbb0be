"""{% lab_panel %}: the side panel on every console page of a sandbox that is a lab run."""
from django import template

from .. import catalog, pages
from ..models import LabRun

register = template.Library()


@register.inclusion_tag("labs/_panel.html", takes_context=True)
def lab_panel(context):
    """The panel for the page's sandbox, from the world the page already read; nothing for a plain sandbox."""
    run = LabRun.objects.filter(pk=context["sandbox"].pk).select_related("sandbox").first()
    if run is None or catalog.get(run.lab) is None:
        return {}
    return pages.lab_context(context["request"], run, context["world"])
