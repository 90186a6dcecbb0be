"""The CloudTrail feed page, one record with its why, and the trail as a log file or CSV."""
import csv
import json

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from kmslab.sandboxes import runner
from kmslab.sandboxes.models import TrailRecord

from .. import learner, pages
from ..trail import TrailFilterForm, records, row


def fragment_wanted(request):
    """htmx asks for a fragment, except when it restores a pushed URL it has no snapshot of: then the page."""
    return request.htmx and not request.htmx.history_restore_request


@require_GET
@vary_on_headers("HX-Request")
def trail(request, sandbox_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    form = TrailFilterForm(request.GET)
    filters = form.filters()
    world = runner.load_world(sandbox.id)
    names = TrailRecord.objects.filter(sandbox=sandbox).values_list("event_name", flat=True).distinct()
    context = pages.context(
        request, sandbox, world, "trail",
        filter_form=form,
        rows=[row(r) for r in records(sandbox.id, filters)],
        query=request.GET.urlencode(),
        event_names=sorted(set(names)),
    )
    return render(request, "console/trail.html#feed" if fragment_wanted(request) else "console/trail.html", context)


@require_GET
@vary_on_headers("HX-Request")
def trail_record(request, sandbox_id, event_id):
    """One record: opened from the feed, above it (its URL pushed, so it can be shared and Back closes it); or a page."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    found = TrailRecord.objects.filter(sandbox=sandbox, event_id=event_id).first()
    if found is None:
        raise Http404("No such record")
    context = {"sandbox": sandbox, "record": found.record, "explanations": found.explanations,
               "after": pages.after_authorization(found.record, found.explanations)}
    if fragment_wanted(request):
        return render(request, "console/trail_record.html#record", context)
    world = runner.load_world(sandbox.id)
    return render(request, "console/trail_record.html", {**pages.context(request, sandbox, world, "trail"), **context})


def _download_rows(request, sandbox):
    """The filtered trail, oldest first, as a CloudTrail log file lists it."""
    filters = TrailFilterForm(request.GET).filters()
    return reversed(list(records(sandbox.id, filters, limit=None)))


@require_GET
def trail_json(request, sandbox_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    body = {"Records": [r.record for r in _download_rows(request, sandbox)]}
    response = JsonResponse(body, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="kmslab-{sandbox.id}-trail.json"'
    return response


CSV_COLUMNS = ["eventTime", "eventName", "eventSource", "userIdentity.type", "userIdentity.arn",
               "userIdentity.accessKeyId", "sourceIPAddress", "userAgent", "resources", "errorCode",
               "errorMessage", "readOnly", "eventType", "requestID", "eventID"]


@require_GET
def trail_csv(request, sandbox_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kmslab-{sandbox.id}-trail.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for stored in _download_rows(request, sandbox):
        record = stored.record
        identity = record.get("userIdentity") or {}
        writer.writerow(_cell(value) for value in [
            record.get("eventTime"), record.get("eventName"), record.get("eventSource"),
            identity.get("type", ""), identity.get("arn", ""), identity.get("accessKeyId", ""),
            record.get("sourceIPAddress"), record.get("userAgent"),
            " ".join(r["ARN"] for r in record.get("resources") or []),
            record.get("errorCode", ""), record.get("errorMessage", ""),
            json.dumps(record.get("readOnly")), record.get("eventType"), record.get("requestID"), record.get("eventID"),
        ])
    return response


def _cell(value):
    """Keep a spreadsheet from running learner-chosen text (an alias, a message) as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
