"""IAM: users, groups, roles, policies, access keys and MFA devices.

Entities live in `world.doc["accounts"][account]` keyed by name; access keys in
`world.doc["access_keys"]` keyed by access key id (they are global in AWS).
A virtual MFA device is `{"SerialNumber", "Path", "Base32StringSeed" (sealed,
purpose "mfa-seed"), "UserName" (None until enabled), "EnableDate", "Tags"}`
in the account's "mfa_devices", keyed by its name.

The primitives (add_user, add_access_key, ...) set up worlds without a call;
the operations below are IAM's API, each authorized by the caller's
identity-based policies and answering with AWS's error codes and messages.
"""
import base64

from . import mfa
from .errors import (
    AccessDenied,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidAuthenticationCode,
    InvalidClientTokenId,
    InvalidInput,
    LimitExceeded,
    LimitExceededException,
    MalformedPolicyDocument,
    MalformedPolicyDocumentException,
    NoSuchEntity,
    ValidationError,
)
from .operations import operation
from .policy import grammar
from .policy.authorize import authorize_account, managed_policy
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


def principal_exists(world, name):
    """Whether an AWS principal ARN names a principal of this sandbox: key policies
    (PutKeyPolicy, "Policy"), trust policies and grants may name only those."""
    if name == "*":
        return True
    parts = name.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    account = world.account(parts[4])
    if account is None:
        return False
    resource = parts[5]
    if parts[2] == "iam" and resource == "root":
        return True
    if parts[2] == "iam" and resource.startswith(("user/", "role/")):
        kind = "users" if resource.startswith("user/") else "roles"
        name_only = resource.rsplit("/", 1)[-1]
        found = account[kind].get(name_only)
        return found is not None and found["Arn"] == name
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        pieces = resource.split("/")
        return len(pieces) == 3 and pieces[1] in account["roles"]
    return False


# Authorization. IAM authorizes its own API by the caller's identity-based
# policies alone: IAM resources take no resource-based policy (a role's trust
# policy governs only sts:AssumeRole, see sts.py). The root user may do
# anything in its own account (IAM user guide, id_root-user). The policy
# engine decides (policy/authorize.py: IAM policies only, on a resource).


def _authorize_iam(ctx, operation_name, resource):
    caller = ctx.caller
    # Credentials from GetSessionToken without MFA cannot call IAM at all
    # (IAM user guide, id_credentials_temp_request: "cannot call IAM API
    # operations unless MFA authentication information is included").
    if caller.kind != "AssumedRole" and caller.session_created is not None and not caller.mfa_authenticated:
        raise InvalidClientTokenId("The security token included in the request is invalid")
    authorize_account(ctx, f"iam:{operation_name}", resource=resource, error=AccessDenied)


def check_policy(text, kind="identity"):
    """Validate a policy document IAM is given; kind "identity" or "trust" (a role's)."""
    try:
        policy = grammar.parse(text, "identity" if kind == "identity" else "key")
    except (MalformedPolicyDocumentException, LimitExceededException) as exc:
        raise MalformedPolicyDocument(exc.message) from None
    if kind == "trust":
        # A trust policy is the role's resource policy: the role is the resource,
        # and the only actions are STS's (parsed as a key policy, a Principal is required).
        for statement in policy.statements:
            if statement.resources is not None:
                raise MalformedPolicyDocument("Has prohibited field Resource")
            if any(not action.lower().startswith("sts:") for action in statement.actions or ()):
                raise MalformedPolicyDocument("AssumeRole policy may only specify STS AssumeRole actions.")
    return policy


def _size(text):
    # IAM counts a policy's size without whitespace (reference_iam-quotas).
    return len("".join(text.split()))


# Entities. Names are unique in an account regardless of case, and found
# regardless of case (IAM user guide, reference_iam-quotas "IAM name requirements").

ENTITIES = {
    # kind: (collection, NoSuchEntity message, inline policy quota in bytes)
    "User": ("users", "The user with name {} cannot be found.", 2048),
    "Group": ("groups", "The group with name {} cannot be found.", 5120),
    "Role": ("roles", "The role with name {} cannot be found.", 10240),
}
MAX_ATTACHED = 10  # managed policies per user, group or role (default quota)
MAX_GROUPS_PER_USER = 10
MAX_ACCESS_KEYS = 2
MAX_POLICY_VERSIONS = 5
MAX_MANAGED_POLICY_SIZE = 6144
MAX_TRUST_POLICY_SIZE = 2048
MAX_MFA_DEVICES_PER_USER = 8


def _account(ctx):
    return ctx.world.add_account(ctx.caller.account)


def _find(collection, name):
    found = collection.get(name)
    if found is None:
        folded = name.casefold()
        found = next((v for k, v in collection.items() if k.casefold() == folded), None)
    return found


def _entity(ctx, kind, name):
    collection, missing, _ = ENTITIES[kind]
    found = _find(_account(ctx)[collection], name)
    if found is None:
        raise NoSuchEntity(missing.format(name))
    return found


def _entity_arn(ctx, kind, name):
    """The ARN IAM authorizes against: the entity's own, or where it would be."""
    found = _find(_account(ctx)[ENTITIES[kind][0]], name)
    return found["Arn"] if found else f"arn:aws:iam::{ctx.caller.account}:{kind.lower()}/{name}"


def _own_user_name(ctx, request):
    """UserName, or the calling user's own name when the request leaves it out."""
    if request.get("UserName"):
        return request["UserName"]
    if ctx.caller.kind == "IAMUser":
        return ctx.caller.user_name
    raise ValidationError("Must specify userName when calling with non-User credentials")


def _user_view(user, tags=True):
    view = {k: user[k] for k in ("Path", "UserName", "UserId", "Arn", "CreateDate")}
    if tags and user["Tags"]:
        view["Tags"] = list(user["Tags"])
    return view


def _group_view(group):
    return {k: group[k] for k in ("Path", "GroupName", "GroupId", "Arn", "CreateDate")}


def _role_view(role, tags=True):
    view = {
        k: role[k]
        for k in ("Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument", "MaxSessionDuration")
    }
    if role.get("Description"):
        view["Description"] = role["Description"]
    if tags and role["Tags"]:
        view["Tags"] = list(role["Tags"])
    return view


def _merge_tags(entity, tags):
    # TagUser/TagRole: a tag with an existing key replaces its value.
    current = {t["Key"]: t["Value"] for t in entity["Tags"]}
    current.update({t["Key"]: t["Value"] for t in tags})
    entity["Tags"] = [{"Key": k, "Value": v} for k, v in current.items()]


def _page(request, items, key):
    """IAM pagination: MaxItems (default 100) and an opaque Marker."""
    start = 0
    if request.get("Marker"):
        try:
            start = int(base64.b64decode(request["Marker"], validate=True).decode())
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("Invalid Marker.") from None
    end = start + request.get("MaxItems", 100)
    response = {key: items[start:end], "IsTruncated": end < len(items)}
    if response["IsTruncated"]:
        response["Marker"] = base64.b64encode(str(end).encode()).decode()
    return response


def _by_path(items, request, name_field):
    prefix = request.get("PathPrefix", "/")
    return sorted((i for i in items if i["Path"].startswith(prefix)), key=lambda i: i[name_field].casefold())


def _drop_sessions(ctx, field, name):
    """Temporary credentials of a deleted user or role stop working with it."""
    sessions = ctx.world.doc["sessions"]
    for key_id in [k for k, s in sessions.items() if s["Account"] == ctx.caller.account and s.get(field) == name]:
        del sessions[key_id]


# Users.


@operation("iam", "CreateUser")
def create_user(ctx, request):
    name, path = request["UserName"], request.get("Path", "/")
    _authorize_iam(ctx, "CreateUser", user_arn(ctx.caller.account, name, path))
    if _find(_account(ctx)["users"], name):
        raise EntityAlreadyExists(f"User with name {name} already exists.")
    user = add_user(ctx.world, ctx.caller.account, name, path)
    user["Tags"] = list(request.get("Tags", []))
    return {"User": _user_view(user)}


@operation("iam", "GetUser", read_only=True)
def get_user(ctx, request):
    name = _own_user_name(ctx, request)
    _authorize_iam(ctx, "GetUser", _entity_arn(ctx, "User", name))
    return {"User": _user_view(_entity(ctx, "User", name))}


@operation("iam", "ListUsers", read_only=True)
def list_users(ctx, request):
    _authorize_iam(ctx, "ListUsers", f"arn:aws:iam::{ctx.caller.account}:user/")
    users = _by_path(_account(ctx)["users"].values(), request, "UserName")
    return _page(request, [_user_view(u, tags=False) for u in users], "Users")


@operation("iam", "DeleteUser")
def delete_user(ctx, request):
    name = request["UserName"]
    _authorize_iam(ctx, "DeleteUser", _entity_arn(ctx, "User", name))
    user = _entity(ctx, "User", name)
    name = user["UserName"]
    account = _account(ctx)
    # DeleteUser refuses while the user still owns anything (API reference, DeleteUser).
    if any(k["Account"] == ctx.caller.account and k["UserName"] == name for k in ctx.world.doc["access_keys"].values()):
        raise DeleteConflict("Cannot delete entity, must delete access keys first.")
    if any(d["UserName"] == name for d in account["mfa_devices"].values()):
        raise DeleteConflict("Cannot delete entity, must delete MFA device first.")
    if user["InlinePolicies"]:
        raise DeleteConflict("Cannot delete entity, must delete policies first.")
    if user["AttachedPolicies"]:
        raise DeleteConflict("Cannot delete entity, must detach all policies first.")
    if user["Groups"]:
        raise DeleteConflict("Cannot delete entity, must remove user from all groups first.")
    del account["users"][name]
    _drop_sessions(ctx, "UserName", name)
    return {}


@operation("iam", "TagUser")
def tag_user(ctx, request):
    _authorize_iam(ctx, "TagUser", _entity_arn(ctx, "User", request["UserName"]))
    _merge_tags(_entity(ctx, "User", request["UserName"]), request["Tags"])
    return {}


# Groups.


@operation("iam", "CreateGroup")
def create_group(ctx, request):
    name, path = request["GroupName"], request.get("Path", "/")
    _authorize_iam(ctx, "CreateGroup", f"arn:aws:iam::{ctx.caller.account}:group{path}{name}")
    if _find(_account(ctx)["groups"], name):
        raise EntityAlreadyExists(f"Group with name {name} already exists.")
    return {"Group": _group_view(add_group(ctx.world, ctx.caller.account, name, path))}


# Named _op: add_user_to_group is the primitive above, kept for setup code (labs, tests).
@operation("iam", "AddUserToGroup")
def add_user_to_group_op(ctx, request):
    _authorize_iam(ctx, "AddUserToGroup", _entity_arn(ctx, "Group", request["GroupName"]))
    group = _entity(ctx, "Group", request["GroupName"])
    user = _entity(ctx, "User", request["UserName"])
    if group["GroupName"] not in user["Groups"]:
        if len(user["Groups"]) >= MAX_GROUPS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}")
        user["Groups"].append(group["GroupName"])
    return {}


@operation("iam", "RemoveUserFromGroup")
def remove_user_from_group(ctx, request):
    _authorize_iam(ctx, "RemoveUserFromGroup", _entity_arn(ctx, "Group", request["GroupName"]))
    group = _entity(ctx, "Group", request["GroupName"])
    user = _entity(ctx, "User", request["UserName"])
    if group["GroupName"] not in user["Groups"]:
        raise NoSuchEntity(f"User {user['UserName']} is not in group {group['GroupName']}.")
    user["Groups"].remove(group["GroupName"])
    return {}


# Roles.


@operation("iam", "CreateRole")
def create_role(ctx, request):
    name, path = request["RoleName"], request.get("Path", "/")
    _authorize_iam(ctx, "CreateRole", role_arn(ctx.caller.account, name, path))
    if _find(_account(ctx)["roles"], name):
        raise EntityAlreadyExists(f"Role with name {name} already exists.")
    document = request["AssumeRolePolicyDocument"]
    _check_trust_policy(ctx.world, document)
    role = add_role(ctx.world, ctx.caller.account, name, document, path)
    role["MaxSessionDuration"] = request.get("MaxSessionDuration", 3600)
    role["Tags"] = list(request.get("Tags", []))
    if request.get("Description"):
        role["Description"] = request["Description"]
    return {"Role": _role_view(role)}


def _check_trust_policy(world, document):
    if _size(document) > MAX_TRUST_POLICY_SIZE:
        raise LimitExceeded(f"Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY_SIZE}")
    policy = check_policy(document, "trust")
    # IAM refuses a trust policy naming a user or role that does not exist (an
    # account, named by its root, is always accepted).
    for statement in policy.statements:
        for kind, name in statement.principals:
            if kind != "AWS" or name == "*" or name.endswith(":root"):
                continue
            if not principal_exists(world, name):
                raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{name}"')


@operation("iam", "GetRole", read_only=True)
def get_role(ctx, request):
    _authorize_iam(ctx, "GetRole", _entity_arn(ctx, "Role", request["RoleName"]))
    view = _role_view(_entity(ctx, "Role", request["RoleName"]))
    view["RoleLastUsed"] = {}
    return {"Role": view}


@operation("iam", "ListRoles", read_only=True)
def list_roles(ctx, request):
    _authorize_iam(ctx, "ListRoles", f"arn:aws:iam::{ctx.caller.account}:role/")
    roles = _by_path(_account(ctx)["roles"].values(), request, "RoleName")
    return _page(request, [_role_view(r, tags=False) for r in roles], "Roles")


@operation("iam", "DeleteRole")
def delete_role(ctx, request):
    _authorize_iam(ctx, "DeleteRole", _entity_arn(ctx, "Role", request["RoleName"]))
    role = _entity(ctx, "Role", request["RoleName"])
    if role["InlinePolicies"]:
        raise DeleteConflict("Cannot delete entity, must delete policies first.")
    if role["AttachedPolicies"]:
        raise DeleteConflict("Cannot delete entity, must detach all policies first.")
    del _account(ctx)["roles"][role["RoleName"]]
    _drop_sessions(ctx, "RoleName", role["RoleName"])
    return {}


@operation("iam", "UpdateAssumeRolePolicy")
def update_assume_role_policy(ctx, request):
    _authorize_iam(ctx, "UpdateAssumeRolePolicy", _entity_arn(ctx, "Role", request["RoleName"]))
    role = _entity(ctx, "Role", request["RoleName"])
    _check_trust_policy(ctx.world, request["PolicyDocument"])
    role["AssumeRolePolicyDocument"] = request["PolicyDocument"]
    return {}


@operation("iam", "TagRole")
def tag_role(ctx, request):
    _authorize_iam(ctx, "TagRole", _entity_arn(ctx, "Role", request["RoleName"]))
    _merge_tags(_entity(ctx, "Role", request["RoleName"]), request["Tags"])
    return {}


# Inline policies: one set of rules for users, groups and roles.


def _put_inline(ctx, kind, request):
    name = request[f"{kind}Name"]
    _authorize_iam(ctx, f"Put{kind}Policy", _entity_arn(ctx, kind, name))
    holder = _entity(ctx, kind, name)
    document, policy_name = request["PolicyDocument"], request["PolicyName"]
    check_policy(document)
    # The quota is on the total of the holder's inline policies.
    others = sum(_size(d) for n, d in holder["InlinePolicies"].items() if n != policy_name)
    quota = ENTITIES[kind][2]
    if others + _size(document) > quota:
        raise LimitExceeded(f"Maximum policy size of {quota} bytes exceeded for {kind.lower()} {holder[f'{kind}Name']}")
    holder["InlinePolicies"][policy_name] = document
    return {}


def _inline(ctx, kind, request, action):
    name = request[f"{kind}Name"]
    _authorize_iam(ctx, action, _entity_arn(ctx, kind, name))
    holder = _entity(ctx, kind, name)
    policy_name = request["PolicyName"]
    if policy_name not in holder["InlinePolicies"]:
        raise NoSuchEntity(f"The {kind.lower()} policy with name {policy_name} cannot be found.")
    return holder, policy_name


def _get_inline(ctx, kind, request):
    holder, policy_name = _inline(ctx, kind, request, f"Get{kind}Policy")
    return {
        f"{kind}Name": holder[f"{kind}Name"],
        "PolicyName": policy_name,
        "PolicyDocument": holder["InlinePolicies"][policy_name],
    }


def _delete_inline(ctx, kind, request):
    holder, policy_name = _inline(ctx, kind, request, f"Delete{kind}Policy")
    del holder["InlinePolicies"][policy_name]
    return {}


def _list_inline(ctx, kind, request):
    name = request[f"{kind}Name"]
    _authorize_iam(ctx, f"List{kind}Policies", _entity_arn(ctx, kind, name))
    holder = _entity(ctx, kind, name)
    return _page(request, sorted(holder["InlinePolicies"]), "PolicyNames")


@operation("iam", "PutUserPolicy")
def put_user_policy(ctx, request):
    return _put_inline(ctx, "User", request)


@operation("iam", "GetUserPolicy", read_only=True)
def get_user_policy(ctx, request):
    return _get_inline(ctx, "User", request)


@operation("iam", "DeleteUserPolicy")
def delete_user_policy(ctx, request):
    return _delete_inline(ctx, "User", request)


@operation("iam", "ListUserPolicies", read_only=True)
def list_user_policies(ctx, request):
    return _list_inline(ctx, "User", request)


@operation("iam", "PutGroupPolicy")
def put_group_policy(ctx, request):
    return _put_inline(ctx, "Group", request)


@operation("iam", "GetGroupPolicy", read_only=True)
def get_group_policy(ctx, request):
    return _get_inline(ctx, "Group", request)


@operation("iam", "DeleteGroupPolicy")
def delete_group_policy(ctx, request):
    return _delete_inline(ctx, "Group", request)


@operation("iam", "ListGroupPolicies", read_only=True)
def list_group_policies(ctx, request):
    return _list_inline(ctx, "Group", request)


@operation("iam", "PutRolePolicy")
def put_role_policy(ctx, request):
    return _put_inline(ctx, "Role", request)


@operation("iam", "GetRolePolicy", read_only=True)
def get_role_policy(ctx, request):
    return _get_inline(ctx, "Role", request)


@operation("iam", "DeleteRolePolicy")
def delete_role_policy(ctx, request):
    return _delete_inline(ctx, "Role", request)


@operation("iam", "ListRolePolicies", read_only=True)
def list_role_policies(ctx, request):
    return _list_inline(ctx, "Role", request)


# Managed policies.


def _policy(ctx, arn):
    """A customer managed policy of the caller's account, or NoSuchEntity as IAM words it."""
    policy = managed_policy(ctx.world, arn)
    if policy is None or arn.split(":")[4] != ctx.caller.account:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
    return policy


def _attachments(ctx, arn):
    account = _account(ctx)
    return sum(
        arn in holder["AttachedPolicies"]
        for collection in ("users", "groups", "roles")
        for holder in account[collection].values()
    )


def _policy_view(ctx, policy):
    view = {
        k: policy[k] for k in ("PolicyName", "PolicyId", "Arn", "Path", "DefaultVersionId", "CreateDate", "UpdateDate")
    }
    view.update(
        {"AttachmentCount": _attachments(ctx, policy["Arn"]), "PermissionsBoundaryUsageCount": 0, "IsAttachable": True}
    )
    if policy.get("Description"):
        view["Description"] = policy["Description"]
    if policy.get("Tags"):
        view["Tags"] = list(policy["Tags"])
    return view


def _version_view(policy, version_id):
    version = policy["Versions"][version_id]
    return {
        "Document": version["Document"],
        "VersionId": version_id,
        "IsDefaultVersion": version_id == policy["DefaultVersionId"],
        "CreateDate": version["CreateDate"],
    }


def _check_managed_document(document):
    if _size(document) > MAX_MANAGED_POLICY_SIZE:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {MAX_MANAGED_POLICY_SIZE}")
    check_policy(document)


@operation("iam", "CreatePolicy")
def create_policy(ctx, request):
    name, path = request["PolicyName"], request.get("Path", "/")
    _authorize_iam(ctx, "CreatePolicy", f"arn:aws:iam::{ctx.caller.account}:policy{path}{name}")
    if _find(_account(ctx)["policies"], name):
        raise EntityAlreadyExists(f"A policy called {name} already exists. Duplicate names are not allowed.")
    _check_managed_document(request["PolicyDocument"])
    policy = add_managed_policy(ctx.world, ctx.caller.account, name, request["PolicyDocument"], path)
    policy["UpdateDate"] = policy["CreateDate"]
    policy["Tags"] = list(request.get("Tags", []))
    if request.get("Description"):
        policy["Description"] = request["Description"]
    return {"Policy": _policy_view(ctx, policy)}


@operation("iam", "GetPolicy", read_only=True)
def get_policy(ctx, request):
    _authorize_iam(ctx, "GetPolicy", request["PolicyArn"])
    return {"Policy": _policy_view(ctx, _policy(ctx, request["PolicyArn"]))}


@operation("iam", "GetPolicyVersion", read_only=True)
def get_policy_version(ctx, request):
    arn, version_id = request["PolicyArn"], request["VersionId"]
    _authorize_iam(ctx, "GetPolicyVersion", arn)
    policy = _policy(ctx, arn)
    if version_id not in policy["Versions"]:
        raise NoSuchEntity(f"Policy {arn} version {version_id} does not exist or is not attachable.")
    return {"PolicyVersion": _version_view(policy, version_id)}


@operation("iam", "CreatePolicyVersion")
def create_policy_version(ctx, request):
    arn = request["PolicyArn"]
    _authorize_iam(ctx, "CreatePolicyVersion", arn)
    policy = _policy(ctx, arn)
    if len(policy["Versions"]) >= MAX_POLICY_VERSIONS:
        raise LimitExceeded(
            f"A managed policy can have up to {MAX_POLICY_VERSIONS} versions. "
            "Before you create a new version, you must delete an existing version."
        )
    _check_managed_document(request["PolicyDocument"])
    # Version ids count up and are never reused.
    version_id = f"v{max(int(v[1:]) for v in policy['Versions']) + 1}"
    policy["Versions"][version_id] = {"Document": request["PolicyDocument"], "CreateDate": ctx.time}
    if request.get("SetAsDefault"):
        policy["DefaultVersionId"] = version_id
    policy["UpdateDate"] = ctx.time
    return {"PolicyVersion": _version_view(policy, version_id)}


@operation("iam", "DeletePolicyVersion")
def delete_policy_version(ctx, request):
    arn, version_id = request["PolicyArn"], request["VersionId"]
    _authorize_iam(ctx, "DeletePolicyVersion", arn)
    policy = _policy(ctx, arn)
    if version_id not in policy["Versions"]:
        raise NoSuchEntity(f"Policy {arn} version {version_id} does not exist or is not attachable.")
    if version_id == policy["DefaultVersionId"]:
        raise DeleteConflict("Cannot delete the default version of a policy.")
    del policy["Versions"][version_id]
    return {}


@operation("iam", "DeletePolicy")
def delete_policy(ctx, request):
    arn = request["PolicyArn"]
    _authorize_iam(ctx, "DeletePolicy", arn)
    policy = _policy(ctx, arn)
    if _attachments(ctx, arn):
        raise DeleteConflict("Cannot delete a policy attached to entities.")
    if len(policy["Versions"]) > 1:
        raise DeleteConflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's "
            "versions. The default version is deleted with the policy."
        )
    del _account(ctx)["policies"][policy["PolicyName"]]
    return {}


# Attaching managed policies to users, groups and roles.


def _attach(ctx, kind, request):
    name, arn = request[f"{kind}Name"], request["PolicyArn"]
    _authorize_iam(ctx, f"Attach{kind}Policy", _entity_arn(ctx, kind, name))
    holder = _entity(ctx, kind, name)
    _policy(ctx, arn)
    if arn not in holder["AttachedPolicies"]:
        if len(holder["AttachedPolicies"]) >= MAX_ATTACHED:
            raise LimitExceeded(f"Cannot exceed quota for PoliciesPer{kind}: {MAX_ATTACHED}")
        holder["AttachedPolicies"].append(arn)
    return {}


def _detach(ctx, kind, request):
    name, arn = request[f"{kind}Name"], request["PolicyArn"]
    _authorize_iam(ctx, f"Detach{kind}Policy", _entity_arn(ctx, kind, name))
    holder = _entity(ctx, kind, name)
    if arn not in holder["AttachedPolicies"]:
        raise NoSuchEntity(f"Policy {arn} was not found.")
    holder["AttachedPolicies"].remove(arn)
    return {}


def _list_attached(ctx, kind, request):
    name = request[f"{kind}Name"]
    _authorize_iam(ctx, f"ListAttached{kind}Policies", _entity_arn(ctx, kind, name))
    holder = _entity(ctx, kind, name)
    policies = [managed_policy(ctx.world, arn) for arn in holder["AttachedPolicies"]]
    policies = _by_path([p for p in policies if p], request, "PolicyName")
    attached = [{"PolicyName": p["PolicyName"], "PolicyArn": p["Arn"]} for p in policies]
    return _page(request, attached, "AttachedPolicies")


@operation("iam", "AttachUserPolicy")
def attach_user_policy(ctx, request):
    return _attach(ctx, "User", request)


@operation("iam", "DetachUserPolicy")
def detach_user_policy(ctx, request):
    return _detach(ctx, "User", request)


@operation("iam", "ListAttachedUserPolicies", read_only=True)
def list_attached_user_policies(ctx, request):
    return _list_attached(ctx, "User", request)


@operation("iam", "AttachGroupPolicy")
def attach_group_policy(ctx, request):
    return _attach(ctx, "Group", request)


@operation("iam", "DetachGroupPolicy")
def detach_group_policy(ctx, request):
    return _detach(ctx, "Group", request)


@operation("iam", "ListAttachedGroupPolicies", read_only=True)
def list_attached_group_policies(ctx, request):
    return _list_attached(ctx, "Group", request)


@operation("iam", "AttachRolePolicy")
def attach_role_policy(ctx, request):
    return _attach(ctx, "Role", request)


@operation("iam", "DetachRolePolicy")
def detach_role_policy(ctx, request):
    return _detach(ctx, "Role", request)


@operation("iam", "ListAttachedRolePolicies", read_only=True)
def list_attached_role_policies(ctx, request):
    return _list_attached(ctx, "Role", request)


# Access keys.


def _keys_of(ctx, user_name):
    return [
        k for k in ctx.world.doc["access_keys"].values()
        if k["Account"] == ctx.caller.account and k["UserName"] == user_name
    ]


@operation("iam", "CreateAccessKey")
def create_access_key(ctx, request):
    name = _own_user_name(ctx, request)
    _authorize_iam(ctx, "CreateAccessKey", _entity_arn(ctx, "User", name))
    name = _entity(ctx, "User", name)["UserName"]
    if len(_keys_of(ctx, name)) >= MAX_ACCESS_KEYS:
        raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}")
    key, secret = add_access_key(ctx.world, ctx.caller.account, name)
    # The only time the secret is ever shown (CloudTrail drops it, see records.py).
    return {
        "AccessKey": {
            "UserName": name,
            "AccessKeyId": key["AccessKeyId"],
            "Status": key["Status"],
            "SecretAccessKey": secret,
            "CreateDate": key["CreateDate"],
        }
    }


@operation("iam", "ListAccessKeys", read_only=True)
def list_access_keys(ctx, request):
    name = _own_user_name(ctx, request)
    _authorize_iam(ctx, "ListAccessKeys", _entity_arn(ctx, "User", name))
    name = _entity(ctx, "User", name)["UserName"]
    keys = sorted(_keys_of(ctx, name), key=lambda k: k["CreateDate"])
    return _page(
        request,
        [{k: key[k] for k in ("UserName", "AccessKeyId", "Status", "CreateDate")} for key in keys],
        "AccessKeyMetadata",
    )


@operation("iam", "DeleteAccessKey")
def delete_access_key(ctx, request):
    name, key_id = _own_user_name(ctx, request), request["AccessKeyId"]
    _authorize_iam(ctx, "DeleteAccessKey", _entity_arn(ctx, "User", name))
    name = _entity(ctx, "User", name)["UserName"]
    if not any(k["AccessKeyId"] == key_id for k in _keys_of(ctx, name)):
        raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
    del ctx.world.doc["access_keys"][key_id]
    return {}


# Virtual MFA devices. The seed is sealed in the world; the TOTP codes are
# checked against the real time (see mfa.py).


def mfa_device(world, account, serial_number):
    """The MFA device with this serial number (its ARN) in an account, or None."""
    devices = (world.account(account) or {}).get("mfa_devices", {})
    return next((d for d in devices.values() if d["SerialNumber"] == serial_number), None)


def mfa_seed(world, device):
    return world.unseal("mfa-seed", device["Base32StringSeed"]).decode()


def _device(ctx, serial_number):
    device = mfa_device(ctx.world, ctx.caller.account, serial_number)
    if device is None:
        raise NoSuchEntity(f"VirtualMFADevice with serial number {serial_number} does not exist.")
    return device


@operation("iam", "CreateVirtualMFADevice")
def create_virtual_mfa_device(ctx, request):
    name, path = request["VirtualMFADeviceName"], request.get("Path", "/")
    serial = f"arn:aws:iam::{ctx.caller.account}:mfa{path}{name}"
    _authorize_iam(ctx, "CreateVirtualMFADevice", serial)
    devices = _account(ctx)["mfa_devices"]
    if _find(devices, name):
        raise EntityAlreadyExists("MFADevice entity at the same path and name already exists.")
    seed = mfa.new_seed()
    devices[name] = {
        "SerialNumber": serial,
        "Path": path,
        "Base32StringSeed": ctx.world.seal("mfa-seed", seed.encode()),
        "UserName": None,
        "EnableDate": None,
        "Tags": list(request.get("Tags", [])),
    }
    # The QR code names the device and "the user name if set, otherwise the account ID".
    account_name = ctx.caller.user_name or ctx.caller.account
    device = {
        "SerialNumber": serial,
        "Base32StringSeed": seed.encode(),
        "QRCodePNG": mfa.qr_code_png(name, account_name, seed),
    }
    if request.get("Tags"):
        device["Tags"] = list(request["Tags"])
    return {"VirtualMFADevice": device}


@operation("iam", "EnableMFADevice")
def enable_mfa_device(ctx, request):
    name, serial = request["UserName"], request["SerialNumber"]
    _authorize_iam(ctx, "EnableMFADevice", _entity_arn(ctx, "User", name))
    user = _entity(ctx, "User", name)
    device = _device(ctx, serial)
    if device["UserName"] is not None:
        raise EntityAlreadyExists("MFA Device is already in use.")
    devices = _account(ctx)["mfa_devices"].values()
    if sum(d["UserName"] == user["UserName"] for d in devices) >= MAX_MFA_DEVICES_PER_USER:
        raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {MAX_MFA_DEVICES_PER_USER}")
    # Two consecutive codes prove the app holds the seed and its clock is right.
    seed = mfa_seed(ctx.world, device)
    codes = request["AuthenticationCode1"], request["AuthenticationCode2"]
    if not mfa.verify_consecutive(seed, *codes, ctx.world.clock.real()):
        raise InvalidAuthenticationCode("Authentication code for device is not valid.")
    device["UserName"] = user["UserName"]
    device["EnableDate"] = ctx.time
    return {}


@operation("iam", "DeactivateMFADevice")
def deactivate_mfa_device(ctx, request):
    name, serial = _own_user_name(ctx, request), request["SerialNumber"]
    _authorize_iam(ctx, "DeactivateMFADevice", _entity_arn(ctx, "User", name))
    user = _entity(ctx, "User", name)
    device = _device(ctx, serial)
    if device["UserName"] != user["UserName"]:
        raise NoSuchEntity("MFA Device invalid for user.")
    device["UserName"] = None
    device["EnableDate"] = None
    return {}


@operation("iam", "ListMFADevices", read_only=True)
def list_mfa_devices(ctx, request):
    name = _own_user_name(ctx, request)
    _authorize_iam(ctx, "ListMFADevices", _entity_arn(ctx, "User", name))
    name = _entity(ctx, "User", name)["UserName"]
    devices = sorted(
        (d for d in _account(ctx)["mfa_devices"].values() if d["UserName"] == name), key=lambda d: d["EnableDate"]
    )
    return _page(
        request,
        [{"UserName": name, "SerialNumber": d["SerialNumber"], "EnableDate": d["EnableDate"]} for d in devices],
        "MFADevices",
    )


@operation("iam", "DeleteVirtualMFADevice")
def delete_virtual_mfa_device(ctx, request):
    serial = request["SerialNumber"]
    _authorize_iam(ctx, "DeleteVirtualMFADevice", serial)
    device = _device(ctx, serial)
    if device["UserName"] is not None:
        raise DeleteConflict("MFA VirtualDevice in use. Must deactivate first.")
    devices = _account(ctx)["mfa_devices"]
    del devices[next(n for n, d in devices.items() if d is device)]
    return {}
