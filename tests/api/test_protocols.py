"""The JSON 1.1 and query protocols, checked against botocore's own serializers and parsers."""
from urllib.parse import urlencode

import botocore.parsers
import botocore.serialize
import pytest

from kmslab.api import json11, query
from kmslab.cloud import errors, shapes


def botocore_request(service, operation, params):
    model = shapes.operation_model(service, operation)
    protocol = model.metadata["protocol"]
    return botocore.serialize.create_serializer(protocol, include_validation=False).serialize_to_request(params, model)


def botocore_parse(service, operation, status, body, headers=None):
    model = shapes.operation_model(service, operation)
    parser = botocore.parsers.create_parser(model.metadata["protocol"])
    return parser.parse({"status_code": status, "headers": headers or {}, "body": body}, model.output_shape)


# JSON 1.1


def test_an_encrypt_request_from_botocore_parses_to_its_input():
    params = {"KeyId": "alias/app", "Plaintext": b"\x00secret", "EncryptionContext": {"dept": "eng"},
              "GrantTokens": ["t1"], "DryRun": False}
    sent = botocore_request("kms", "Encrypt", params)
    assert json11.parse_request(shapes.operation_model("kms", "Encrypt"), sent["body"]) == params


def test_timestamps_in_a_lookup_events_request_parse_to_epoch_seconds():
    import datetime

    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    sent = botocore_request("cloudtrail", "LookupEvents", {"StartTime": start, "MaxResults": 5})
    parsed = json11.parse_request(shapes.operation_model("cloudtrail", "LookupEvents"), sent["body"])
    assert parsed == {"StartTime": start.timestamp(), "MaxResults": 5}


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"KeyId": 5}', "NUMBER_VALUE can not be converted to a String"),
        (b'{"KeyId": "k", "Plaintext": "not base64!"}', "Base64 encoded value is not valid."),
        (b'{"KeyId": "k", "EncryptionContext": ["a"]}', "Start of list found where not expected."),
        (b'{"KeyId": "k", "EncryptionContext": {"a": 1}}', "NUMBER_VALUE can not be converted to a String"),
        (b'{"KeyId": "k", "DryRun": "yes"}', "STRING_VALUE can not be converted to a Boolean"),
        (b'{"KeyId": {"a": 1}}', "Start of structure or map found where not expected."),
        (b'[1, 2]', "Start of list found where not expected."),
        (b"null", "VALUE_NULL can not be converted to a Structure"),
        (b'{"KeyId": "k", "Plaintext": "aGk=", "DryRun": NaN}', "The request body is not valid JSON."),
        (b'{"KeyId": ', "The request body is not valid JSON."),
        (b"\xff\xfe{", "The request body is not valid JSON."),
        (b"[" * 100_000 + b"]" * 100_000, "The request JSON is nested too deeply."),
    ],
)
def test_a_malformed_json_request_is_a_serialization_exception(body, message):
    with pytest.raises(errors.SerializationException) as raised:
        json11.parse_request(shapes.operation_model("kms", "Encrypt"), body)
    assert raised.value.message == message


@pytest.mark.parametrize(
    "operation, body, message",
    [
        ("LookupEvents", b'{"StartTime": 1e20}', "Timestamp (1e+20) out of range"),
        ("LookupEvents", b'{"EndTime": -1e15}', "Timestamp (-1000000000000000.0) out of range"),
        ("LookupEvents", b'{"MaxResults": 2147483648}', "Numeric value (2147483648) out of range of Integer"),
    ],
)
def test_numbers_out_of_range_are_serialization_exceptions(operation, body, message):
    with pytest.raises(errors.SerializationException) as raised:
        json11.parse_request(shapes.operation_model("cloudtrail", operation), body)
    assert raised.value.message == message


def test_unknown_members_and_nulls_are_ignored_as_aws_does():
    parsed = json11.parse_request(shapes.operation_model("kms", "Encrypt"), b'{"KeyId": "k", "Nope": 1, "DryRun": null}')
    assert parsed == {"KeyId": "k"}


def test_a_json_response_parses_in_botocore_with_blobs_and_timestamps():
    response = {"CiphertextBlob": b"\x01\x02", "KeyId": "arn:aws:kms:us-east-1:111122223333:key/k",
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    parsed = botocore_parse("kms", "Encrypt", 200, json11.serialize_response(response))
    assert {k: parsed[k] for k in response} == response
    described = botocore_parse("kms", "DescribeKey", 200, json11.serialize_response(
        {"KeyMetadata": {"KeyId": "k", "CreationDate": 1795000000.5, "Enabled": True}}))
    assert described["KeyMetadata"]["CreationDate"].timestamp() == 1795000000.5


def test_a_json_error_parses_in_botocore_as_its_code_and_message():
    status, body = json11.serialize_error(errors.NotFoundException("Key 'k' does not exist"))
    parsed = botocore_parse("kms", "DescribeKey", status, body)
    assert (status, parsed["Error"]) == (400, {"Code": "NotFoundException", "Message": "Key 'k' does not exist"})


# Query


def form(service, operation, params):
    sent = botocore_request(service, operation, params)
    return query.parse_form(urlencode(sent["body"]).encode())


def test_query_requests_from_botocore_parse_to_their_input():
    params = {"RoleArn": "arn:aws:iam::111122223333:role/r", "RoleSessionName": "s", "DurationSeconds": 900,
              "Tags": [{"Key": "team", "Value": "a&b=c"}, {"Key": "k2", "Value": ""}],
              "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/x"}], "TransitiveTagKeys": []}
    parsed_form = form("sts", "AssumeRole", params)
    assert parsed_form["Action"] == "AssumeRole" and parsed_form["Version"] == "2011-06-15"
    assert query.parse_request(shapes.operation_model("sts", "AssumeRole"), parsed_form) == params


def test_a_boolean_query_parameter_parses():
    params = {"UserName": "bob", "Password": "pw", "PasswordResetRequired": True}
    assert query.parse_request(shapes.operation_model("iam", "CreateLoginProfile"),
                               form("iam", "CreateLoginProfile", params)) == params


@pytest.mark.parametrize(
    "operation, params",
    [("AssumeRole", {"RoleArn": "a", "RoleSessionName": "s", "DurationSeconds": "soon"}),
     ("AssumeRole", {"RoleArn": "a", "RoleSessionName": "s", "DurationSeconds": "1_000"}),
     ("CreateLoginProfile", {"UserName": "bob", "Password": "pw", "PasswordResetRequired": "maybe"})],
)
def test_malformed_query_parameters_are_invalid_parameter_values(operation, params):
    service = "sts" if operation == "AssumeRole" else "iam"
    with pytest.raises(errors.InvalidParameterValue):
        query.parse_request(shapes.operation_model(service, operation), params)


def test_a_body_that_is_not_utf8_is_an_invalid_parameter_value():
    with pytest.raises(errors.InvalidParameterValue):
        query.parse_form(b"Action=GetCallerIdentity&x=\xff")


def test_a_query_response_parses_in_botocore():
    model = shapes.operation_model("sts", "AssumeRole")
    response = {"Credentials": {"AccessKeyId": "ASIAX", "SecretAccessKey": "s<&>", "SessionToken": "t",
                                "Expiration": 1795000000.0},
                "AssumedRoleUser": {"AssumedRoleId": "AROA:s", "Arn": "arn:aws:sts::1:assumed-role/r/s"},
                "PackedPolicySize": 6}
    parsed = botocore_parse("sts", "AssumeRole", 200, query.serialize_response(model, response, "req-1"))
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"
    assert parsed["Credentials"]["SecretAccessKey"] == "s<&>"
    assert parsed["Credentials"]["Expiration"].timestamp() == 1795000000.0
    assert parsed["AssumedRoleUser"] == response["AssumedRoleUser"] and parsed["PackedPolicySize"] == 6


def test_query_lists_and_url_encoded_policy_documents_parse_in_botocore():
    users = {"Users": [{"UserName": "alice", "UserId": "AIDA1", "Arn": "arn:aws:iam::1:user/alice", "Path": "/",
                        "CreateDate": 1795000000.0}], "IsTruncated": False}
    parsed = botocore_parse("iam", "ListUsers", 200,
                            query.serialize_response(shapes.operation_model("iam", "ListUsers"), users, "r"))
    assert [u["UserName"] for u in parsed["Users"]] == ["alice"] and parsed["IsTruncated"] is False
    document = '{"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}'
    body = query.serialize_response(shapes.operation_model("iam", "GetUserPolicy"),
                                    {"UserName": "alice", "PolicyName": "p", "PolicyDocument": document}, "r")
    assert b"%7B%22Statement" in body


def test_an_operation_without_output_still_answers_with_response_metadata():
    body = query.serialize_response(shapes.operation_model("iam", "DeleteUser"), None, "req-2")
    assert botocore_parse("iam", "DeleteUser", 200, body)["ResponseMetadata"]["RequestId"] == "req-2"


@pytest.mark.parametrize(
    "error, code, status",
    [
        (errors.NoSuchEntity("The user with name bob cannot be found."), "NoSuchEntity", 404),
        (errors.ValidationError("1 validation error detected: x"), "ValidationError", 400),
        (errors.InvalidSignatureException("bad"), "SignatureDoesNotMatch", 403),
        (errors.UnrecognizedClientException("bad"), "InvalidClientTokenId", 403),
    ],
)
def test_a_query_error_parses_in_botocore_as_iam_and_sts_name_it(error, code, status):
    got_status, body = query.serialize_error("https://iam.amazonaws.com/doc/2010-05-08/", error, "req-3")
    parsed = botocore_parse("iam", "GetUser", got_status, body)
    assert (got_status, parsed["Error"]["Code"], parsed["Error"]["Message"]) == (status, code, error.message)
    assert parsed["Error"]["Type"] == "Sender" and parsed["ResponseMetadata"]["RequestId"] == "req-3"


# What an outside probe sent: names nested past any input, and control characters echoed back


def test_no_iam_or_sts_input_nests_deeper_than_the_parser_accepts():
    def deepest(shape, seen=()):
        if shape.name in seen:
            return 0
        seen += (shape.name,)
        if shape.type_name == "structure":
            return 1 + max((deepest(m, seen) for m in shape.members.values()), default=0)
        if shape.type_name == "list":
            return (1 if shape.serialization.get("flattened") else 2) + deepest(shape.member, seen)
        if shape.type_name == "map":
            return 3 + max(deepest(shape.key, seen), deepest(shape.value, seen))
        return 0

    for service in ("iam", "sts"):
        model = shapes.service_model(service)
        for name in model.operation_names:
            shape = model.operation_model(name).input_shape
            assert shape is None or deepest(shape) <= query.MAX_NAME_PARTS, name


def test_mallory_s_name_of_five_thousand_dots_is_an_invalid_query_parameter():
    params = {"Action": "CreateUser", "Version": "2010-05-08", "UserName": "m", "Tags" + ".member" * 5000: "x"}
    with pytest.raises(query.InvalidQueryParameter) as raised:
        query.parse_request(shapes.operation_model("iam", "CreateUser"), params)
    assert query.query_error(raised.value) == ("InvalidQueryParameter", 400)


def test_a_list_past_the_member_limit_is_an_invalid_query_parameter():
    model = shapes.operation_model("iam", "SimulatePrincipalPolicy")
    params = {"PolicySourceArn": "arn:aws:iam::111122223333:user/alice"}
    params.update({f"ActionNames.member.{i}": "kms:Encrypt" for i in range(1, query.MAX_LIST_MEMBERS + 1)})
    assert len(query.parse_request(model, params)["ActionNames"]) == query.MAX_LIST_MEMBERS
    params[f"ActionNames.member.{query.MAX_LIST_MEMBERS + 1}"] = "kms:Decrypt"
    with pytest.raises(query.InvalidQueryParameter):
        query.parse_request(model, params)


@pytest.mark.parametrize("value", ["\x01", "\x1b[31m", "\x00", "a\ufffeb", "\ud800"])
def test_an_error_that_echoes_a_control_character_still_parses_in_botocore(value):
    error = errors.InvalidParameterValue(f"Value ({value}) for parameter MaxItems is invalid. Expected an integer.")
    status, body = query.serialize_error("https://iam.amazonaws.com/doc/2010-05-08/", error, "req-4")
    parsed = botocore_parse("iam", "ListUsers", status, body)
    assert parsed["Error"]["Code"] == "InvalidParameterValue"
    assert parsed["Error"]["Message"].startswith("Value (") and "for parameter MaxItems" in parsed["Error"]["Message"]


def test_a_response_holding_a_control_character_still_parses_in_botocore():
    model = shapes.operation_model("iam", "ListUserTags")
    body = query.serialize_response(model, {"Tags": [{"Key": "k\x07", "Value": "v\x1f"}], "IsTruncated": False}, "r")
    assert botocore_parse("iam", "ListUserTags", 200, body)["Tags"] == [{"Key": "k\ufffd", "Value": "v\ufffd"}]
