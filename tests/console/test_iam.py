"""IAM pages: entities of every account, creating them, access keys with snippets, MFA devices."""
import re

from .personas import A, B, is_fragment


def test_the_iam_page_lists_every_account(alice):
    page = alice.get(alice.home + "iam/").content.decode()
    assert f"Account {A}" in page and f"Account {B}" in page
    assert "<code>AdministratorAccess</code>" in page


def test_create_user_group_and_membership_with_htmx(alice):
    response = alice.post(alice.home + "iam/call/CreateUser/", {"UserName": "bob"}, htmx=True)
    assert is_fragment(response) and b"Succeeded" in response.content
    alice.post(alice.home + "iam/call/CreateGroup/", {"GroupName": "readers"})
    body = alice.post(alice.home + "iam/call/AddUserToGroup/", {"UserName": "bob", "GroupName": "readers"},
                      htmx=True).content.decode()
    assert f'/iam/{A}/users/bob/">bob</a></td>\n        <td>readers</td>' in body


def test_an_iam_error_is_shown_as_aws_names_it(alice):
    alice.post(alice.home + "iam/call/CreateUser/", {"UserName": "bob"})
    body = alice.post(alice.home + "iam/call/CreateUser/", {"UserName": "bob"}, htmx=True).content.decode()
    assert 'class="code">EntityAlreadyExists<' in body


def test_a_new_access_key_is_shown_once_with_boto3_and_cli_snippets(alice):
    response = alice.post(alice.home + f"iam/{A}/users/admin/access-keys/", htmx=True)
    assert is_fragment(response)
    body = response.content.decode()
    key_id = re.search(r'Access key id <span class="secret">(AKIA\w+)<', body).group(1)
    secret = re.search(r'Secret access key <span class="secret">([^<]+)<', body).group(1)
    assert 'endpoint_url="http://testserver/aws/"' in body
    assert f'aws_access_key_id="{key_id}"' in body and "aws --endpoint-url http://testserver/aws/ kms list-aliases" in body
    assert secret not in alice.get(alice.home + f"iam/{A}/users/admin/").content.decode()


def test_setting_up_mfa_shows_the_qr_code_and_the_current_code(alice):
    body = alice.post(alice.home + f"iam/{A}/users/admin/mfa/", htmx=True).content.decode()
    assert "CreateVirtualMFADevice" in body and "EnableMFADevice" in body
    assert f"arn:aws:iam::{A}:mfa/admin-console" in body
    code = alice.get(alice.home + f"iam/{A}/users/admin/mfa/code/").content.decode()
    assert re.search(r'class="totp">\d{6}<', code) and 'hx-trigger="every 5s"' in code


def test_no_device_no_code(alice):
    assert alice.get(alice.home + f"iam/{A}/users/admin/mfa/code/").status_code == 404


def test_a_role_page_shows_its_trust_policy(alice):
    alice.post(alice.home + "iam/call/CreateRole/", {
        "RoleName": "auditor",
        "AssumeRolePolicyDocument": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                    f'"Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}',
    })
    page = alice.get(alice.home + f"iam/{A}/roles/auditor/").content.decode()
    assert "Trust policy" in page and "sts:AssumeRole" in page


def test_an_unknown_user_is_not_found(alice):
    assert alice.get(alice.home + f"iam/{A}/users/nobody/").status_code == 404
    assert alice.get(alice.home + "iam/999999999999/users/admin/").status_code == 404
