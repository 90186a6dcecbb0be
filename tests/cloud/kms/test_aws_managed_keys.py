"""AWS managed keys: alias/aws/<service>, KeyManager AWS, viewable but never managed."""
import json

import pytest
from tests.conftest import T0
from ..factories import DAY, fails, make_key, ok


def test_the_first_use_of_an_aws_alias_creates_its_aws_managed_key(world, admin, admin_b):
    meta = ok(world, admin, "DescribeKey", KeyId="alias/aws/s3")["KeyMetadata"]

    assert (meta["KeyManager"], meta["KeyState"], meta["Origin"]) == ("AWS", "Enabled", "AWS_KMS")
    assert ok(world, admin, "DescribeKey", KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"] == meta["KeyId"]
    assert [a["AliasName"] for a in ok(world, admin, "ListAliases")["Aliases"] if "TargetKeyId" in a] == ["alias/aws/s3"]
    # Each account has its own.
    assert ok(world, admin_b, "DescribeKey", KeyId="alias/aws/s3")["KeyMetadata"]["KeyId"] != meta["KeyId"]


def test_an_unknown_aws_alias_is_not_found(world, admin):
    error = fails(world, admin, "DescribeKey", KeyId="alias/aws/nosuchservice")

    assert error.code == "NotFoundException"


def test_an_aws_managed_key_allows_use_only_through_its_service(world, admin):
    key_id = ok(world, admin, "DescribeKey", KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]

    policy = json.loads(ok(world, admin, "GetKeyPolicy", KeyId=key_id)["Policy"])

    use, read = policy["Statement"]
    assert use["Principal"] == {"AWS": "*"}
    assert use["Condition"] == {
        "StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "ebs.us-east-1.amazonaws.com"}
    }
    assert read["Action"] == ["kms:Describe*", "kms:Get*", "kms:List*"]


def test_an_aws_managed_key_rotates_every_year(world, admin):
    key_id = ok(world, admin, "DescribeKey", KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]

    assert ok(world, admin, "GetKeyRotationStatus", KeyId=key_id) == {
        "KeyRotationEnabled": True,
        "KeyId": f"arn:aws:kms:us-east-1:111122223333:key/{key_id}",
        "RotationPeriodInDays": 365,
        "NextRotationDate": T0 + 365 * DAY,
    }


@pytest.mark.parametrize(
    "operation, request_",
    [
        ("DisableKey", {}),
        ("EnableKey", {}),
        ("ScheduleKeyDeletion", {}),
        ("CancelKeyDeletion", {}),
        ("UpdateKeyDescription", {"Description": "mine now"}),
        ("PutKeyPolicy", {"Policy": "{}"}),
        ("EnableKeyRotation", {}),
        ("DisableKeyRotation", {}),
        ("RotateKeyOnDemand", {}),
        ("TagResource", {"Tags": [{"TagKey": "a", "TagValue": "b"}]}),
        ("UntagResource", {"TagKeys": ["a"]}),
    ],
)
def test_no_one_manages_an_aws_managed_key(world, admin, operation, request_):
    meta = ok(world, admin, "DescribeKey", KeyId="alias/aws/ebs")["KeyMetadata"]
    before = world.rows()

    error = fails(world, admin, operation, KeyId=meta["KeyId"], **request_)

    assert (error.code, error.message) == (
        "AccessDeniedException",
        f"User: {admin.arn} is not authorized to perform: kms:{operation} on resource: {meta['Arn']} "
        f"because no resource-based policy allows the kms:{operation} action",
    )
    assert world.rows() == before


def test_a_customer_alias_cannot_point_to_an_aws_managed_key(world, admin):
    aws_key = ok(world, admin, "DescribeKey", KeyId="alias/aws/ebs")["KeyMetadata"]
    ok(world, admin, "CreateAlias", AliasName="alias/mine", TargetKeyId=make_key(world, admin)["KeyId"])

    for operation in ("CreateAlias", "UpdateAlias"):
        error = fails(world, admin, operation, AliasName="alias/mine", TargetKeyId=aws_key["KeyId"])
        assert error.code == "AccessDeniedException"


def test_naming_another_accounts_aws_alias_creates_nothing_there(world, admin):
    error = fails(world, admin, "DescribeKey", KeyId="arn:aws:kms:us-east-1:444455556666:alias/aws/s3")

    assert (error.code, error.message) == ("NotFoundException", "Alias arn:aws:kms:us-east-1:444455556666:alias/aws/s3 is not found.")
    assert world.doc["kms"]["keys"] == {}
