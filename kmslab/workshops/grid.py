"""The dashboard's pieces as HTML: the page renders them all, a websocket sends those that changed.

Every piece is one element with an id, rendered by one partial of
workshops/dashboard.html, the same on the page and over the websocket (there
with hx-swap-oob, which swaps it by id).
"""
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from . import dashboard

TEMPLATE = "workshops/dashboard.html"


def cell(key, value):
    _, slug, objective = key
    return {"slug": slug, "objective": objective, "at": value}


def call(value, whys):
    """A row's last call; `whys` has the explanation of each denied one (dashboard.explanations)."""
    if value is None:
        return None
    event, error, denied, record_id, sandbox = value
    return {"event": event, "error": error, "denied": denied, "record": record_id, "sandbox": sandbox,
            "why": whys.get(record_id) if denied else None}


def where(value):
    if value is None:
        return None
    slug, title, step, steps, complete, sandbox = value
    return {"slug": slug, "title": title, "step": step, "steps": steps, "complete": complete, "sandbox": sandbox}


def row_context(workshop, learner, row, whys):
    return {
        "learner": learner,
        "cells": [cell(c.key, row[c.key]) for c in dashboard.columns(workshop)],
        "where": where(row["where"]),
        "hints": row["hints"],
        "idle": row["progress"],
        "call": call(row["call"], whys),
        "stuck": row["stuck"],
    }


def total_contexts(workshop, totals):
    return [{"slug": c.lab.slug, "objective": c.objective.id, "count": totals[("total",) + c.key[1:]]}
            for c in dashboard.columns(workshop)]


def _piece(workshop, learner, key, row, whys):
    kind = key[0] if isinstance(key, tuple) else key
    context = {"workshop": workshop, "learner": learner, "oob": True}
    if kind == "cell":
        context["cell"] = cell(key, row[key])
    elif kind == "where":
        context["where"] = where(row["where"])
    elif kind == "hints":
        context["hints"] = row["hints"]
    elif kind == "progress":
        context["idle"] = row["progress"]
    elif kind == "call":
        context["call"] = call(row["call"], whys)
    elif kind == "stuck":
        context["stuck"] = row["stuck"]
    return render_to_string(f"{TEMPLATE}#{kind}", context)


_UNKNOWN = object()


def changes(workshop, learners, sent, fresh):
    """HTML of the pieces of `fresh` rows ({learner id: row}) that differ from `sent`, and of new learners' rows
    (those `sent` does not have). A learner `sent` has as {} gets every piece."""
    parts = []
    changed = {i: row for i, row in fresh.items() if sent.get(i) is None or sent[i].get("call", _UNKNOWN) != row["call"]}
    whys = dashboard.explanations(changed.values())
    for learner_id, row in fresh.items():
        learner = learners[learner_id]
        before = sent.get(learner_id)
        if before is None:
            parts.append(render_to_string(f"{TEMPLATE}#new-row", {
                "workshop": workshop, "r": row_context(workshop, learner, row, whys)}))
            continue
        parts.extend(_piece(workshop, learner, key, row, whys)
                     for key, value in row.items() if before.get(key, _UNKNOWN) != value)
    return mark_safe("".join(parts))


def total_changes(workshop, sent, fresh):
    """HTML of the totals (dashboard.totals, with "learners") of `fresh` that differ from `sent`."""
    parts = [render_to_string(f"{TEMPLATE}#total", {"t": t, "oob": True})
             for t in total_contexts(workshop, fresh)
             if sent.get(("total", t["slug"], t["objective"])) != t["count"]]
    if sent.get("learners") != fresh["learners"]:
        parts.append(render_to_string(f"{TEMPLATE}#count", {"count": fresh["learners"], "oob": True}))
    return mark_safe("".join(parts))
