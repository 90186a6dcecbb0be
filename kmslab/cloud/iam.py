"""IAM: users, groups, roles, policies, access keys and MFA devices.

Entities live in `world.doc["accounts"][account]` keyed by name; access keys in
`world.doc["access_keys"]` keyed by access key id (they are global in AWS).
"""
from .principals import new_id, new_secret, role_arn, user_arn

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


def add_group(world, account, name, path="/"):
    group = {
        "GroupName": name,
        "GroupId": new_id("AGPA"),
        "Arn": f"arn:aws:iam::{account}:group{path}{name}",
        "Path": path,
        "CreateDate": world.now(),
        "InlinePolicies": {},
        "AttachedPolicies": [],
    }
    world.add_account(account)["groups"][name] = group
    return group


def add_user_to_group(world, account, user_name, group_name):
    user = world.account(account)["users"][user_name]
    if group_name not in user["Groups"]:
        user["Groups"].append(group_name)


def add_role(world, account, name, trust_policy, path="/"):
    role = {
        "RoleName": name,
        "RoleId": new_id("AROA"),
        "Arn": role_arn(account, name, path),
        "Path": path,
        "CreateDate": world.now(),
        "AssumeRolePolicyDocument": trust_policy,
        "MaxSessionDuration": 3600,
        "Tags": [],
        "InlinePolicies": {},
        "AttachedPolicies": [],
    }
    world.add_account(account)["roles"][name] = role
    return role


def add_managed_policy(world, account, name, document, path="/"):
    policy = {
        "PolicyName": name,
        "PolicyId": new_id("ANPA"),
        "Arn": f"arn:aws:iam::{account}:policy{path}{name}",
        "Path": path,
        "CreateDate": world.now(),
        "DefaultVersionId": "v1",
        "Versions": {"v1": {"Document": document, "CreateDate": world.now()}},
    }
    world.add_account(account)["policies"][name] = policy
    return policy


def managed_policy(world, arn):
    account = arn.split(":")[4]
    name = arn.rsplit("/", 1)[-1]
    found = world.account(account) and world.account(account)["policies"].get(name)
    return found if found and found["Arn"] == arn else None


def identity_policies(world, caller):
    """The identity-based policies that apply to a caller: [(source, document text)].

    An IAM user's own inline and attached policies, then its groups'; a role
    session's role's. The root user and service principals have none. The
    source label ("user/admin inline AdministratorAccess") is what an
    explanation shows.
    """
    account = world.account(caller.account)
    if account is None:
        return []
    if caller.kind == "IAMUser":
        holders = [("user", account["users"].get(caller.user_name))]
        if holders[0][1]:
            holders += [("group", account["groups"].get(g)) for g in holders[0][1]["Groups"]]
    elif caller.kind == "AssumedRole":
        holders = [("role", account["roles"].get(caller.role_name))]
    else:
        return []
    found = []
    for kind, holder in holders:
        if holder is None:
            continue
        name = holder.get("UserName") or holder.get("GroupName") or holder.get("RoleName")
        for policy_name, document in holder["InlinePolicies"].items():
            found.append((f"{kind}/{name} inline policy {policy_name}", document))
        for arn in holder["AttachedPolicies"]:
            policy = managed_policy(world, arn)
            if policy:
                document = policy["Versions"][policy["DefaultVersionId"]]["Document"]
                found.append((f"{kind}/{name} managed policy {policy['PolicyName']}", document))
    return found
