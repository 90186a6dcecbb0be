"""Multi-Region keys in the console: the create form's MultiRegion, ReplicateKey and UpdatePrimaryRegion
from the key page, each related key's page in its own Region, and single-Region keys as they were."""
import html
import json
import re

from .html_forms import fields
from .personas import A, B, codes

from kmslab.cloud.kms.keys import find
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import TrailRecord

REPLICA = "?region=eu-west-1"


def key_actions(body):
    """Where the key page's action forms post (htmx's hx-post), unescaped; not the header's Act as."""
    return [html.unescape(url) for url in re.findall(r'hx-post="([^"]*/keys/[^"]*)"', body)]


def multi_region_key(learner, **fields):
    key_page = learner.create_key(MultiRegion="on", **fields)
    assert re.search(r"/keys/mrk-[0-9a-f]{32}/$", key_page)
    return key_page


def replicated(learner):
    """A multi-Region key with an Enabled replica in eu-west-1: its primary's page URL."""
    key_page = multi_region_key(learner)
    learner.post(key_page + "ReplicateKey/", {"ReplicaRegion": "eu-west-1"}, htmx=True)
    runner.advance_clock(learner.sandbox.id, 10)
    return key_page


def test_the_create_form_offers_multi_region(alice):
    page = alice.get(alice.home + "keys/").content.decode()

    assert 'name="MultiRegion"' in page and 'type="checkbox"' in page


def test_create_key_with_multi_region_makes_a_primary_key(alice):
    page = alice.get(multi_region_key(alice)).content.decode()

    assert 'id="multi-region"' in page and "<strong>primary key</strong> in us-east-1" in page
    assert "No replicas yet" in page
    create = json.loads(TrailRecord.objects.get(sandbox=alice.sandbox, event_name="CreateKey").record_json)
    assert create["requestParameters"]["multiRegion"] is True
    assert create["responseElements"]["keyMetadata"]["multiRegionConfiguration"]["multiRegionKeyType"] == "PRIMARY"


def test_replicate_key_from_the_primary_page_shows_the_replica_creating_with_a_link(alice):
    key_page = multi_region_key(alice)

    body = alice.post(key_page + "ReplicateKey/", {"ReplicaRegion": "eu-west-1", "Description": "EU copy"},
                      htmx=True).content.decode()

    assert "Succeeded" in body and "<summary>Multi-Region</summary>" in body
    replica_link = html.escape(key_page + REPLICA)
    assert f'<a href="{replica_link}">eu-west-1</a>' in body
    row = body.split(f'<a href="{replica_link}">eu-west-1</a>')[1].split("</tr>")[0]
    assert ">Creating<" in row
    # ReplicateKey's record in us-east-1, and its CreateKey in the replica's Region (ct-replicate-key).
    assert TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="ReplicateKey", region="us-east-1").count() == 1
    assert TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="CreateKey", region="eu-west-1").count() == 1
    # A Region that has one already is AWS's error, shown as such.
    assert codes(alice.post(key_page + "ReplicateKey/", {"ReplicaRegion": "eu-west-1"}, htmx=True)) == [
        "AlreadyExistsException"]


def test_the_replica_becomes_enabled_on_its_own_page_in_its_region(alice):
    key_page = multi_region_key(alice)
    alice.post(key_page + "ReplicateKey/", {"ReplicaRegion": "eu-west-1", "Description": "EU copy"}, htmx=True)
    assert ">Creating<" in alice.get(key_page + REPLICA).content.decode()

    runner.advance_clock(alice.sandbox.id, 10)
    page = alice.get(key_page + REPLICA).content.decode()

    assert "<strong>replica key</strong> in eu-west-1" in page
    lede = page.split('<p class="lede">')[1].split("</p>")[0]
    assert ">Enabled<" in lede and "eu-west-1" in lede and "EU copy" in lede
    assert "arn:aws:kms:eu-west-1:" in page
    # Its primary is one link away; ReplicateKey and UpdatePrimaryRegion are the primary's.
    assert f'href="{html.escape(key_page)}">open it in us-east-1</a>' in page
    assert "ReplicateKey/" not in page and "UpdatePrimaryRegion/" not in page
    # Every action on the replica's page runs in its Region.
    assert len(key_actions(page)) > 10 and all(url.endswith(REPLICA) for url in key_actions(page))


def test_encrypt_on_the_primary_decrypts_on_the_replica_in_its_region(alice):
    key_page = replicated(alice)
    body = alice.post(key_page + "Encrypt/", {"Plaintext": "card 4111", "EncryptionContext": '{"app": "billing"}'},
                      htmx=True).content.decode()
    decrypt = fields(body, "crypto-output")

    body = alice.post(key_page + "Decrypt/" + REPLICA, decrypt, htmx=True).content.decode()

    assert codes(alice.post(key_page + "Decrypt/" + REPLICA, {**decrypt, "EncryptionContext": "{}"}, htmx=True)) == [
        "InvalidCiphertextException"]
    assert ">card 4111</textarea>" in body
    record = TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="Decrypt").order_by("sequence").first()
    assert record.region == "eu-west-1" and "arn:aws:kms:eu-west-1:" in record.record_json


def test_the_replica_page_decrypts_what_it_encrypted_through_its_own_form(alice):
    key_page = replicated(alice)
    body = alice.post(key_page + "Encrypt/" + REPLICA, {"Plaintext": "eu data"}, htmx=True).content.decode()

    assert re.search(r'<form method="post" action="[^"]*/Decrypt/\?region=eu-west-1"', body)
    body = alice.post(key_page + "Decrypt/", fields(body, "crypto-output"), htmx=True).content.decode()
    assert ">eu data</textarea>" in body


def test_each_related_key_has_its_own_aliases(alice):
    key_page = replicated(alice)

    alice.post(key_page + "CreateAlias/" + REPLICA, {"AliasName": "alias/eu-payroll"}, htmx=True)

    assert "alias/eu-payroll" in alice.get(key_page + REPLICA).content.decode()
    assert "alias/eu-payroll" not in alice.get(key_page).content.decode()


def test_update_primary_region_from_the_page_swaps_primary_and_replica(alice):
    key_page = replicated(alice)
    page = alice.get(key_page).content.decode()
    assert re.search(r'<select name="PrimaryRegion"[^>]*>\s*<option value="eu-west-1"', page)

    body = alice.post(key_page + "UpdatePrimaryRegion/", {"PrimaryRegion": "eu-west-1"}, htmx=True).content.decode()

    assert "Succeeded" in body and ">Updating<" in body
    runner.advance_clock(alice.sandbox.id, 10)
    old = alice.get(key_page).content.decode()
    new = alice.get(key_page + REPLICA).content.decode()
    assert "<strong>replica key</strong> in us-east-1" in old
    assert f'href="{html.escape(key_page + REPLICA)}">open it in eu-west-1</a>' in old
    assert "<strong>primary key</strong> in eu-west-1" in new and "ReplicateKey/?region=eu-west-1" in new
    assert re.search(r'<select name="PrimaryRegion"[^>]*>\s*<option value="us-east-1"', new)


def test_the_keys_list_shows_each_related_key_in_its_region_with_its_own_link(alice):
    key_page = replicated(alice)
    key_id = key_page.rstrip("/").rsplit("/", 1)[1]

    page = alice.get(alice.home + "keys/").content.decode()

    links = re.findall(rf'<a href="([^"]*{key_id}[^"]*)"><code>{key_id}</code></a>', page)
    assert [html.unescape(link) for link in links] == [key_page, key_page + REPLICA]
    rows = page.split(f"<code>{key_id}</code>")[1:]
    assert "us-east-1" in rows[0] and ">primary<" in rows[0]
    assert "eu-west-1" in rows[1] and ">replica<" in rows[1]


def test_a_single_region_key_and_its_page_are_as_they_were(alice):
    key_page = alice.create_key()
    page = alice.get(key_page).content.decode()

    assert 'id="multi-region"' not in page and "ReplicateKey" not in page and "?region=" not in page
    assert len(key_actions(page)) > 10 and all(url.startswith(key_page) and "?" not in url for url in key_actions(page))
    keys = alice.get(alice.home + "keys/").content.decode()
    assert f'<a href="{key_page}"><code>' in keys and "<td>us-east-1</td>" in keys
    # It is in the world's default Region only, and the Region must be one of AWS's.
    assert alice.get(key_page + REPLICA).status_code == 404
    assert alice.get(key_page + "?region=mars-1").status_code == 404
    assert alice.get(key_page + "?region=us-east-1").status_code == 200


def test_a_replica_cannot_change_rotation_its_primary_manages(alice):
    key_page = replicated(alice)

    response = alice.post(key_page + "EnableKeyRotation/" + REPLICA, {"RotationPeriodInDays": "365"}, htmx=True)

    assert codes(response) == ["UnsupportedOperationException"]
    assert "A replica rotates with its primary" in alice.get(key_page + REPLICA).content.decode()


def test_the_replica_page_edits_the_replicas_own_key_policy(alice):
    key_page = replicated(alice)
    key_id = key_page.rstrip("/").rsplit("/", 1)[1]
    page = alice.get(key_page + REPLICA).content.decode()
    editor = html.unescape(re.search(r'href="([^"]*)">Edit the key policy</a>', page).group(1))
    assert editor == f"{alice.home}policies/key/{key_id}/{REPLICA}"
    form = fields(alice.get(editor).content.decode(), "policy-form")
    doc = json.loads(form["document"][0])
    doc["Statement"][0]["Sid"] = "EU administrators"

    body = alice.post(editor, {"document": json.dumps(doc)}, htmx=True).content.decode()

    assert "Succeeded" in body
    keys = runner.load_world(alice.sandbox.id).doc["kms"]["keys"]
    assert json.loads(keys[f"{key_id}/eu-west-1"]["Policy"]) == doc
    assert "EU administrators" not in keys[f"{key_id}/us-east-1"]["Policy"]
    record = TrailRecord.objects.get(sandbox=alice.sandbox, event_name="PutKeyPolicy")
    assert record.region == "eu-west-1"
    policies = alice.get(alice.home + "policies/").content.decode()
    assert f'policies/key/{key_id}/{html.escape(REPLICA)}"' in policies


def test_the_share_panel_reads_the_replica_in_its_region(alice):
    key_page = replicated(alice)
    page = alice.get(key_page + REPLICA).content.decode()
    share = html.unescape(re.search(r'id="share"[^>]*hx-get="([^"]*)"', page).group(1))
    assert share.endswith("share/" + REPLICA)

    first = alice.get(share, htmx=True)
    answer = alice.get(f"{share}&account={B}", htmx=True)

    assert first.status_code == 200
    assert '<input type="hidden" name="region" value="eu-west-1">' in first.content.decode()
    assert answer.status_code == 200 and "id=\"share-key-policy\"" in answer.content.decode()
    # Its fix opens the replica's own key policy.
    assert "/?region=eu-west-1&amp;snippet=" in answer.content.decode()


def due_list(learner):
    return learner.get(learner.home).content.decode().split("What is due")[1].split("</table>")[0]


def test_the_sandbox_page_lists_a_multi_region_keys_rotation_once(alice):
    key_page = replicated(alice)

    alice.post(key_page + "EnableKeyRotation/", {"RotationPeriodInDays": "90"}, htmx=True)

    assert due_list(alice).count("Automatic rotation") == 1


def test_the_sandbox_page_links_a_replicas_deletion_to_its_page(alice):
    key_page = replicated(alice)

    alice.post(key_page + "ScheduleKeyDeletion/" + REPLICA, {"PendingWindowInDays": "7"}, htmx=True)

    assert f'href="{html.escape(key_page + REPLICA)}"' in due_list(alice).split("Deletion")[1]


def test_replicate_key_gives_the_replica_its_own_tags_and_key_policy(alice):
    key_page = multi_region_key(alice)
    key_id = key_page.rstrip("/").rsplit("/", 1)[1]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "EU admins only", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
        "Action": "kms:*", "Resource": "*"}]})

    body = alice.post(key_page + "ReplicateKey/", {"ReplicaRegion": "eu-west-1", "Tags": "team=eu", "Policy": policy},
                      htmx=True).content.decode()

    assert "Succeeded" in body
    replica = find(runner.load_world(alice.sandbox.id), key_id, "eu-west-1")
    assert replica["Tags"] == [{"TagKey": "team", "TagValue": "eu"}]
    assert "EU admins only" in replica["Policy"]
