"""IAM: users, groups, roles, policies, access keys and MFA devices.

Entities live in `world.doc["accounts"][account]` keyed by name; access keys in
`world.doc["access_keys"]` keyed by access key id (they are global in AWS).
"""
from .principals import new_id, new_secret, user_arn

ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


def add_user(world, account, name, path="/"):
    users = world.add_account(account)["users"]
    user = {
        "UserName": name,
        "UserId": new_id("AIDA"),
        "Arn": user_arn(account, name, path),
        "Path": path,
        "CreateDate": world.now(),
        "Tags": [],
        "InlinePolicies": {},
        "AttachedPolicies": [],
        "Groups": [],
    }
    users[name] = user
    return user


def add_access_key(world, account, user_name):
    """Returns (access key record, secret access key). The secret is sealed in the world."""
    secret = new_secret()
    key = {
        "AccessKeyId": new_id("AKIA", 20),
        "Account": account,
        "UserName": user_name,
        "SecretAccessKey": world.seal("secret-access-key", secret.encode()),
        "Status": "Active",
        "CreateDate": world.now(),
    }
    world.doc["access_keys"][key["AccessKeyId"]] = key
    return key, secret
