"""Multi-Region keys through boto3: two clients whose region_name picks the Region."""
import time

import pytest
from botocore.exceptions import ClientError

from .live import client_factory

pytestmark = pytest.mark.live


def wait_for_state(kms, key_id, state, seconds=15):
    """AWS's advice for a new replica: retry until it leaves Creating (ReplicateKey API reference)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        if meta["KeyState"] == state:
            return meta
        time.sleep(0.5)
    raise AssertionError(f"{key_id} still {meta['KeyState']}")


def test_a_key_replicated_to_another_region_decrypts_there(server, sandbox):
    east = client_factory(server.url, sandbox["principals"][0], region="us-east-1")("kms")
    west = client_factory(server.url, sandbox["principals"][0], region="us-west-2")("kms")
    primary = east.create_key(MultiRegion=True, Description="global")["KeyMetadata"]
    key_id = primary["KeyId"]
    assert key_id.startswith("mrk-") and primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"

    replica = east.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2", Description="west",
                                 Tags=[{"TagKey": "site", "TagValue": "west"}])
    assert replica["ReplicaKeyMetadata"]["KeyState"] == "Creating"
    assert replica["ReplicaKeyMetadata"]["Arn"] == f"arn:aws:kms:us-west-2:111122223333:key/{key_id}"
    assert replica["ReplicaTags"] == [{"TagKey": "site", "TagValue": "west"}]
    assert {"KeyId": key_id, "KeyArn": replica["ReplicaKeyMetadata"]["Arn"]} in west.list_keys(Limit=1000)["Keys"]

    meta = wait_for_state(west, key_id, "Enabled")
    assert meta["MultiRegionConfiguration"]["PrimaryKey"] == {"Arn": primary["Arn"], "Region": "us-east-1"}
    assert meta["Description"] == "west"
    blob = east.encrypt(KeyId=key_id, Plaintext=b"from the east")["CiphertextBlob"]
    decrypted = west.decrypt(CiphertextBlob=blob)
    assert (decrypted["Plaintext"], decrypted["KeyId"]) == (b"from the east", meta["Arn"])

    with pytest.raises(ClientError) as caught:
        east.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    assert caught.value.response["Error"]["Code"] == "AlreadyExistsException"

    east.update_primary_region(KeyId=key_id, PrimaryRegion="us-west-2")
    assert wait_for_state(west, key_id, "Enabled")["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    assert wait_for_state(east, key_id, "Enabled")["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
