"""Who is calling: the request context that AWS builds from the credentials.

A Caller carries what policy evaluation and CloudTrail's `userIdentity` need:
the principal's ARN and kind, its account, the role behind a session, MFA
presence and when it happened, principal tags, source IP.
"""
import secrets
import string
from dataclasses import dataclass, field

ID_ALPHABET = string.ascii_uppercase + string.digits
SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def new_id(prefix, length=21):
    """IAM unique ids: AIDA… (user), AROA… (role), AKIA… (access key), ASIA… (session)."""
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(length - len(prefix)))


def new_secret():
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(40))


@dataclass
class Caller:
    kind: str  # CloudTrail userIdentity.type: IAMUser, AssumedRole, Root, AWSService
    arn: str
    account: str
    principal_id: str
    access_key_id: str | None = None
    user_name: str | None = None  # aws:username, set for IAM users only
    role_arn: str | None = None  # for AssumedRole sessions: the role (with its path)
    role_name: str | None = None
    role_id: str | None = None
    session_name: str | None = None
    # None: long-term credentials, where aws:MultiFactorAuthPresent is absent.
    mfa_authenticated: bool | None = None
    mfa_auth_time: float | None = None
    session_created: float | None = None
    tags: dict = field(default_factory=dict)
    source_ip: str = "127.0.0.1"
    user_agent: str = "kmslab-console"
    secure_transport: bool = False
    via_service: str | None = None

    @property
    def is_root(self):
        return self.kind == "Root"

    @property
    def principal_arn(self):
        """aws:PrincipalArn: for a role session, the role's ARN."""
        return self.role_arn or self.arn


def user_arn(account, name, path="/"):
    return f"arn:aws:iam::{account}:user{path}{name}"


def role_arn(account, name, path="/"):
    return f"arn:aws:iam::{account}:role{path}{name}"


def root_arn(account):
    return f"arn:aws:iam::{account}:root"


def root_caller(account, **extra):
    return Caller(kind="Root", arn=root_arn(account), account=account, principal_id=account, **extra)


def user_caller(account, user, access_key_id=None, **extra):
    return Caller(
        kind="IAMUser",
        arn=user["Arn"],
        account=account,
        principal_id=user["UserId"],
        access_key_id=access_key_id,
        user_name=user["UserName"],
        tags={t["Key"]: t["Value"] for t in user.get("Tags", [])},
        **extra,
    )


def role_session_caller(account, role, session_name, **extra):
    """The caller of an AssumedRole session of `role` (a role record) named `session_name`."""
    return Caller(
        kind="AssumedRole",
        arn=f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/{session_name}",
        account=account,
        principal_id=f"{role['RoleId']}:{session_name}",
        role_arn=role["Arn"],
        role_name=role["RoleName"],
        role_id=role["RoleId"],
        session_name=session_name,
        tags={t["Key"]: t["Value"] for t in role.get("Tags", [])},
        **extra,
    )


def session_caller(world, session, **extra):
    """The caller behind temporary credentials (GetSessionToken or AssumeRole)."""
    account = session["Account"]
    mfa = dict(
        mfa_authenticated=bool(session.get("MfaAuthenticated")),
        mfa_auth_time=session.get("MfaAuthTime"),
        session_created=session["CreationDate"],
    )
    if session["Kind"] == "SessionToken" and session.get("UserName") is None:
        # The root user's own GetSessionToken session.
        return root_caller(account, access_key_id=session["AccessKeyId"], **mfa, **extra)
    if session["Kind"] == "SessionToken":
        user = world.account(account)["users"][session["UserName"]]
        return user_caller(account, user, session["AccessKeyId"], **mfa, **extra)
    role = world.account(account)["roles"][session["RoleName"]]
    return role_session_caller(account, role, session["RoleSessionName"], access_key_id=session["AccessKeyId"],
                               **mfa, **extra)


def caller_for_access_key(world, access_key_id, **extra):
    """The caller for a long-term access key or a session's key, or None."""
    key = world.doc["access_keys"].get(access_key_id)
    if key is not None:
        if key["Status"] != "Active":
            return None
        user = world.account(key["Account"])["users"].get(key["UserName"])
        return user_caller(key["Account"], user, access_key_id, **extra) if user else None
    session = world.doc["sessions"].get(access_key_id)
    if session is not None:
        return session_caller(world, session, **extra)
    return None


def secret_for_access_key(world, access_key_id):
    """(secret access key, SHA-256 of the session token or None) for SigV4.

    Session tokens are stored as hashes: enough to check one, useless to a
    reader of the document."""
    key = world.doc["access_keys"].get(access_key_id)
    if key is not None:
        return world.unseal("secret-access-key", key["SecretAccessKey"]), None
    session = world.doc["sessions"].get(access_key_id)
    if session is not None:
        return world.unseal("secret-access-key", session["SecretAccessKey"]), session["SessionTokenHash"]
    return None, None
