"""The trail page, a record with its why, and the downloads."""
import csv
import json
import re
import io

from .personas import A, is_fragment

from kmslab.console.views.trail import _cell


def make_calls(alice):
    key_page = alice.create_key(Description="trail")
    alice.post(alice.home + "iam/call/CreateUser/", {"UserName": "bob"})
    alice.act_as(f"{A}/user/bob")
    alice.post(key_page + "DisableKey/")  # denied
    alice.act_as(f"{A}/user/admin")
    return key_page.rstrip("/").rsplit("/", 1)[1]


def test_the_feed_lists_records_newest_first_with_errors_highlighted(alice):
    make_calls(alice)
    page = alice.get(alice.home + "trail/").content.decode()
    names = re.findall(r'hx-target="#record"[^>]*><strong>(\w+)</strong>', page)
    assert names == ["DisableKey", "CreateUser", "CreateKey"]
    assert 'class="failed' in page and '<span class="badge bad">AccessDeniedException</span>' in page
    assert f'ws-connect="/ws/sandboxes/{alice.sandbox.id}/trail/?"' in page


def test_filters_narrow_the_feed_and_the_live_stream_url(alice):
    make_calls(alice)
    response = alice.get(alice.home + "trail/?errors=on", htmx=True)
    assert is_fragment(response)
    fragment = response.content.decode()
    assert "<strong>DisableKey</strong>" in fragment and "<strong>CreateKey</strong>" not in fragment
    assert "trail/?errors=on" in fragment
    assert "<strong>CreateUser</strong>" in alice.get(alice.home + "trail/?event_name=CreateUser").content.decode()
    by_bob = alice.get(alice.home + "trail/?principal=bob").content.decode()
    assert "<strong>DisableKey</strong>" in by_bob and "<strong>CreateKey</strong>" not in by_bob
    read_only = alice.get(alice.home + "trail/?read_only=true").content.decode()
    assert "No records match these filters" in read_only


def test_the_key_filter(alice):
    key_id = make_calls(alice)
    page = alice.get(alice.home + f"trail/?key={key_id}").content.decode()
    assert "<strong>CreateKey</strong>" in page and "<strong>CreateUser</strong>" not in page


def test_a_denied_record_shows_its_json_and_why(alice):
    make_calls(alice)
    records = alice.get(alice.home + "trail.json").json()["Records"]
    denied = records[-1]
    response = alice.get(alice.home + f"trail/{denied['eventID']}/", htmx=True)
    assert is_fragment(response)
    body = response.content.decode()
    assert "Implicitly denied" in body and "Why:" in body
    assert "&quot;errorCode&quot;: &quot;AccessDeniedException&quot;" in body
    full = alice.get(alice.home + f"trail/{denied['eventID']}/").content.decode()
    assert "<html" in full and "Implicitly denied" in full


def test_an_allowed_record_explains_why_too(alice):
    make_calls(alice)
    created = alice.get(alice.home + "trail.json").json()["Records"][0]
    body = alice.get(alice.home + f"trail/{created['eventID']}/", htmx=True).content.decode()
    assert '<span class="badge ok">Allowed</span>' in body


def test_a_call_allowed_then_failing_for_another_reason_is_not_shown_as_a_plain_allow(alice):
    key_page = alice.create_key()
    alice.post(key_page + "DisableKey/")
    key_arn = alice.get(alice.home + "trail.json").json()["Records"][-1]["resources"][0]["ARN"]
    alice.post(alice.home + "envelope/direct/", {"KeyId": key_arn, "EncryptionContext": "{}", "message": "hi"})
    failed = alice.get(alice.home + "trail.json").json()["Records"][-1]
    assert (failed["eventName"], failed["errorCode"]) == ("Encrypt", "DisabledException")
    body = alice.get(alice.home + f"trail/{failed['eventID']}/", htmx=True).content.decode()
    assert f"<p>{failed['errorMessage']}</p>" in body  # AWS's message, as it is
    assert ("<strong>kmslab note:</strong> allowed by the policies; <code>Encrypt</code> failed after "
            "authorization, with DisabledException.") in body
    assert '<span class="badge ok">Allowed by the policies</span>' in body


def test_the_json_download_is_a_cloudtrail_log_file(alice):
    make_calls(alice)
    response = alice.get(alice.home + "trail.json")
    assert response["Content-Disposition"].startswith("attachment;")
    records = response.json()["Records"]
    assert [r["eventName"] for r in records] == ["CreateKey", "CreateUser", "DisableKey"]
    assert records[2]["errorCode"] == "AccessDeniedException"
    only_errors = alice.get(alice.home + "trail.json?errors=on").json()["Records"]
    assert [r["eventName"] for r in only_errors] == ["DisableKey"]


def test_the_csv_download(alice):
    make_calls(alice)
    response = alice.get(alice.home + "trail.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["eventName"] for r in rows] == ["CreateKey", "CreateUser", "DisableKey"]
    assert rows[2]["errorCode"] == "AccessDeniedException"
    assert rows[2]["userIdentity.arn"] == f"arn:aws:iam::{A}:user/bob"


def test_csv_cells_never_start_a_formula():
    assert [_cell(v) for v in ["=HYPERLINK(1)", "+1", "-1", "@x", "ok", None]] == [
        "'=HYPERLINK(1)", "'+1", "'-1", "'@x", "ok", ""]


def test_an_unknown_record_is_not_found(alice):
    assert alice.get(alice.home + "trail/nope/").status_code == 404


def test_an_explicit_deny_names_its_deciding_statement(alice):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "NoDisable", "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{A}:user/admin"},
         "Action": "kms:DisableKey", "Resource": "*"},
    ]})
    key_page = alice.create_key(Policy=policy)
    body = alice.post(key_page + "DisableKey/", htmx=True).content.decode()
    assert "AccessDeniedException" in body and "Explicitly denied" in body
    assert "an explicit Deny in the key policy matched" in body
    assert "statement 2 (Sid “NoDisable”)" in body
    assert 'class="stmt matched deciding"' in body


def test_a_record_opened_from_the_feed_gets_its_own_url(alice):
    make_calls(alice)
    page = alice.get(alice.home + "trail/").content.decode()
    link = re.search(r'<a href="([^"]+)" hx-get="\1" hx-target="#record"[^>]*>', page)
    assert 'hx-push-url="true"' in link.group(0)
    # Back, then Forward past htmx's history cache: htmx asks again for the pushed URL, and gets the page.
    restore = alice.client.get(link.group(1), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert b"<html" in restore.content and b"The record, as CloudTrail delivers it" in restore.content
    assert "HX-Request" in alice.get(link.group(1), htmx=True)["Vary"]


def test_the_records_json_wraps_its_long_arns(alice):
    make_calls(alice)
    created = alice.get(alice.home + "trail.json").json()["Records"][0]
    body = alice.get(alice.home + f"trail/{created['eventID']}/", htmx=True).content.decode()
    assert '<pre class="json">' in body
