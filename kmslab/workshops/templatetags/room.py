"""{% room_cell %} and {% room_cells %}: a cell, and a row's cells, of the instructor's grid: the elements tools
read (data-learner, data-lab, data-objective, data-done), on the page and over the websocket alike.

A room of 300 learners and 40 objectives is 12,000 cells: written as template
text of a dozen variables each, they took three of the page's four seconds to
render on this machine; written here, a row's in one tag, about a tenth of that.
"""
from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def room_cell(learner, cell, oob=False):
    """`cell`: grid.cell's {"slug", "objective", "at"}, `at` the ISO time it was met or None."""
    return mark_safe(_cell(learner.id, escape(learner.display_name), cell, oob))


@register.simple_tag
def room_cells(learner, cells):
    name = escape(learner.display_name)
    return mark_safe("".join(_cell(learner.id, name, cell, False) for cell in cells))


def _cell(learner_id, name, cell, oob):
    slug, objective, at = escape(cell["slug"]), escape(cell["objective"]), cell["at"]
    return (f'<td id="c-{learner_id}-{slug}-{objective}" class="cell" data-learner="{name}" data-lab="{slug}"'
            f' data-objective="{objective}" data-done="{"true" if at else "false"}"'
            + (f' title="Met at {escape(at[11:19])} UTC"' if at else "") + (' hx-swap-oob="true"' if oob else "")
            + ('><span class="visually-hidden">done</span></td>' if at else "></td>"))
