"""CreateAlias, UpdateAlias, DeleteAlias, ListAliases."""
import pytest

from kmslab.cloud import calls
from kmslab.cloud.kms.keys import AWS_MANAGED_SERVICES
from tests.conftest import T0

from ..factories import call, fails, make_key, ok

ALIAS_ARN = "arn:aws:kms:us-east-1:111122223333:alias/payroll"


def own(response):
    """The aliases a test made: ListAliases lists the account's predefined alias/aws/* names too."""
    return [a for a in response["Aliases"] if not a["AliasName"].startswith("alias/aws/")]


def test_an_alias_names_a_key_and_is_listed(world, admin):
    key = make_key(world, admin)

    assert ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["Arn"]) == {}

    listed = ok(world, admin, "ListAliases")
    assert own(listed) == [
        {
            "AliasName": "alias/payroll",
            "AliasArn": ALIAS_ARN,
            "TargetKeyId": key["KeyId"],
            "CreationDate": T0,
            "LastUpdatedDate": T0,
        }
    ]
    assert listed["Truncated"] is False


def test_an_alias_needs_the_alias_prefix(world, admin):
    key = make_key(world, admin)

    error = fails(world, admin, "CreateAlias", AliasName="payroll", TargetKeyId=key["KeyId"])

    assert (error.code, error.message) == (
        "ValidationException",
        'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    )


@pytest.mark.parametrize("operation", ["CreateAlias", "UpdateAlias", "DeleteAlias"])
def test_alias_aws_names_are_reserved_for_aws_managed_keys(world, admin, operation):
    key = make_key(world, admin)
    ok(world, admin, "DescribeKey", KeyId="alias/aws/ebs")
    request = {"AliasName": "alias/aws/ebs"}
    if operation != "DeleteAlias":
        request["TargetKeyId"] = key["KeyId"]

    assert fails(world, admin, operation, **request).code == "NotAuthorizedException"


def test_an_alias_name_is_unique_in_an_account_and_region(world, admin, admin_b):
    first, second = make_key(world, admin), make_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=first["KeyId"])

    error = fails(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=second["KeyId"])
    elsewhere = make_key(world, admin_b)
    ok(world, admin_b, "CreateAlias", AliasName="alias/payroll", TargetKeyId=elsewhere["KeyId"])

    assert (error.code, error.message) == ("AlreadyExistsException", f"An alias with the name {ALIAS_ARN} already exists")
    assert ok(world, admin, "DescribeKey", KeyId="alias/payroll")["KeyMetadata"]["KeyId"] == first["KeyId"]
    assert ok(world, admin_b, "DescribeKey", KeyId="alias/payroll")["KeyMetadata"]["KeyId"] == elsewhere["KeyId"]


def test_an_alias_cannot_point_to_another_alias(world, admin):
    key = make_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])

    error = fails(world, admin, "CreateAlias", AliasName="alias/second", TargetKeyId="alias/payroll")

    assert (error.code, error.message) == ("NotFoundException", "Invalid keyId 'alias/payroll'")


def test_a_key_has_at_most_fifty_aliases(world, admin):
    key = make_key(world, admin)
    for n in range(50):
        ok(world, admin, "CreateAlias", AliasName=f"alias/a{n}", TargetKeyId=key["KeyId"])

    assert fails(world, admin, "CreateAlias", AliasName="alias/a50", TargetKeyId=key["KeyId"]).code == "LimitExceededException"


def test_update_alias_points_it_at_another_key_and_authorizes_on_the_alias_and_both_keys(world, admin, clock):
    old, new = make_key(world, admin), make_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=old["KeyId"])
    clock.t += 60

    outcome = call(world, admin, "UpdateAlias", AliasName="alias/payroll", TargetKeyId=new["KeyId"])

    assert outcome.error is None
    assert [(r["ARN"], r["type"]) for r in outcome.record["resources"]] == [
        (old["Arn"], "AWS::KMS::Key"),
        (new["Arn"], "AWS::KMS::Key"),
        (ALIAS_ARN, "AWS::KMS::Alias"),
    ]
    assert [(e["action"], e["resource"]) for e in outcome.explanations] == [
        ("kms:UpdateAlias", ALIAS_ARN),
        ("kms:UpdateAlias", old["Arn"]),
        ("kms:UpdateAlias", new["Arn"]),
    ]
    [alias] = own(ok(world, admin, "ListAliases"))
    assert (alias["TargetKeyId"], alias["CreationDate"], alias["LastUpdatedDate"]) == (new["KeyId"], T0, T0 + 60)


def test_update_alias_may_leave_a_key_pending_deletion_but_not_go_to_one(world, admin):
    old, new = make_key(world, admin), make_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=old["KeyId"])
    ok(world, admin, "ScheduleKeyDeletion", KeyId=new["KeyId"])

    error = fails(world, admin, "UpdateAlias", AliasName="alias/payroll", TargetKeyId=new["KeyId"])
    ok(world, admin, "CancelKeyDeletion", KeyId=new["KeyId"])
    ok(world, admin, "ScheduleKeyDeletion", KeyId=old["KeyId"])

    assert (error.code, error.message) == ("KMSInvalidStateException", f"{new['Arn']} is pending deletion.")
    ok(world, admin, "UpdateAlias", AliasName="alias/payroll", TargetKeyId=new["KeyId"])


def test_update_or_delete_a_missing_alias_is_not_found(world, admin):
    key = make_key(world, admin)

    update = fails(world, admin, "UpdateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])
    delete = fails(world, admin, "DeleteAlias", AliasName="alias/payroll")

    for error in (update, delete):
        assert (error.code, error.message) == ("NotFoundException", f"Alias {ALIAS_ARN} is not found.")


def test_delete_alias_leaves_the_key(world, admin):
    key = make_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])

    outcome = call(world, admin, "DeleteAlias", AliasName="alias/payroll")

    assert [r["ARN"] for r in outcome.record["resources"]] == [key["Arn"], ALIAS_ARN]
    assert own(ok(world, admin, "ListAliases")) == []
    assert ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_list_aliases_of_one_key_in_pages(world, admin, admin_b):
    key, other = make_key(world, admin), make_key(world, admin)
    for name in ("alias/c", "alias/a", "alias/b"):
        ok(world, admin, "CreateAlias", AliasName=name, TargetKeyId=key["KeyId"])
    ok(world, admin, "CreateAlias", AliasName="alias/other", TargetKeyId=other["KeyId"])
    ok(world, admin_b, "CreateAlias", AliasName="alias/theirs", TargetKeyId=make_key(world, admin_b)["KeyId"])

    first = ok(world, admin, "ListAliases", KeyId=key["KeyId"], Limit=2)
    second = ok(world, admin, "ListAliases", KeyId=key["KeyId"], Limit=2, Marker=first["NextMarker"])

    assert [a["AliasName"] for a in first["Aliases"]] == ["alias/a", "alias/b"] and first["Truncated"]
    assert [a["AliasName"] for a in second["Aliases"]] == ["alias/c"] and not second["Truncated"]
    assert [a["AliasName"] for a in own(ok(world, admin, "ListAliases"))] == [
        "alias/a", "alias/b", "alias/c", "alias/other",
    ]


def test_an_alias_operation_needs_iam_permission_on_the_alias_itself(world, admin):
    key = make_key(world, admin)
    admin_user = world.account("111122223333")["users"]["admin"]
    admin_user["InlinePolicies"]["NoPayrollAliases"] = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:CreateAlias",'
        '"Resource":"arn:aws:kms:us-east-1:111122223333:alias/payroll"}]}'
    )

    error = fails(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])
    ok(world, admin, "CreateAlias", AliasName="alias/other", TargetKeyId=key["KeyId"])

    assert error.code == "AccessDeniedException"
    assert ALIAS_ARN in error.message


def test_the_same_alias_name_may_be_used_in_another_region(world, admin):
    def in_eu(operation, **request):
        outcome = calls.call(world, admin, "kms", operation, request, region="eu-west-1")
        assert outcome.error is None, outcome.error
        return outcome.response

    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=make_key(world, admin)["KeyId"])
    eu_key = in_eu("CreateKey")["KeyMetadata"]

    in_eu("CreateAlias", AliasName="alias/payroll", TargetKeyId=eu_key["KeyId"])

    assert in_eu("DescribeKey", KeyId="alias/payroll")["KeyMetadata"]["Arn"] == eu_key["Arn"]
    assert [a["AliasArn"] for a in own(in_eu("ListAliases"))] == ["arn:aws:kms:eu-west-1:111122223333:alias/payroll"]


def test_list_aliases_lists_the_predefined_aws_aliases_without_a_key_until_one_is_made(world, admin):
    # ListAliases API reference: predefined aliases AWS has not yet associated with a key
    # are listed without TargetKeyId.
    before = ok(world, admin, "ListAliases", Limit=100)["Aliases"]
    ok(world, admin, "DescribeKey", KeyId="alias/aws/s3")
    after = {a["AliasName"]: a for a in ok(world, admin, "ListAliases", Limit=100)["Aliases"]}

    assert [a["AliasName"] for a in before] == sorted(f"alias/aws/{s}" for s in AWS_MANAGED_SERVICES)
    assert before[0] == {"AliasName": "alias/aws/acm", "AliasArn": "arn:aws:kms:us-east-1:111122223333:alias/aws/acm"}
    assert all("TargetKeyId" not in a for a in before)
    assert len(after) == len(AWS_MANAGED_SERVICES)
    assert "TargetKeyId" in after["alias/aws/s3"] and "TargetKeyId" not in after["alias/aws/ebs"]


def test_predefined_aliases_are_listed_in_name_order_with_the_accounts_own_and_paged(world, admin):
    key = make_key(world, admin)
    for name in ("alias/zeta", "alias/alpha"):
        ok(world, admin, "CreateAlias", AliasName=name, TargetKeyId=key["KeyId"])

    names, marker = [], None
    while True:
        page = ok(world, admin, "ListAliases", Limit=4, **({"Marker": marker} if marker else {}))
        names += [a["AliasName"] for a in page["Aliases"]]
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]

    assert names == sorted(names) and len(names) == len(AWS_MANAGED_SERVICES) + 2
    assert names[0] == "alias/alpha" and names[-1] == "alias/zeta"


def test_list_aliases_of_a_key_leaves_the_predefined_aliases_out(world, admin):
    key = make_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])

    assert [a["AliasName"] for a in ok(world, admin, "ListAliases", KeyId=key["KeyId"])["Aliases"]] == ["alias/payroll"]


def test_an_aws_managed_keys_aliases_are_listed_by_its_key_id(world, admin):
    key_id = ok(world, admin, "DescribeKey", KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]

    assert [a["AliasName"] for a in ok(world, admin, "ListAliases", KeyId=key_id)["Aliases"]] == ["alias/aws/ebs"]


@pytest.mark.parametrize("name", ["alias/pay:roll", "alias/pay roll", "alias/payroll.v2", "alias/päyroll", "alias/a*"])
def test_an_alias_name_has_only_letters_digits_slashes_underscores_and_dashes(world, admin, name):
    key = make_key(world, admin)

    error = fails(world, admin, "CreateAlias", AliasName=name, TargetKeyId=key["KeyId"])

    assert error.code == "ValidationException"
    assert own(ok(world, admin, "ListAliases")) == []


def test_an_alias_name_may_use_every_allowed_character(world, admin):
    key = make_key(world, admin)

    ok(world, admin, "CreateAlias", AliasName="alias/Team-2_payroll/prod", TargetKeyId=key["KeyId"])

    assert ok(world, admin, "DescribeKey", KeyId="alias/Team-2_payroll/prod")["KeyMetadata"]["KeyId"] == key["KeyId"]
