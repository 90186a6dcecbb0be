""""Act as": the principal every console call is made as.

The choice lives in the session, per sandbox: {"account", "kind" ("user",
"role" or "root"), "name", "mfa", "access_key_id"}. `access_key_id` names the
temporary credentials of an STS session (GetSessionToken with an MFA code, or
AssumeRole) that the console started; calls then carry exactly the request
context that session has, MFA flags included.
"""
import base64
import time
from dataclasses import dataclass

from kmslab.cloud import iam, mfa, principals, sts
from kmslab.sandboxes import runner

KINDS = {"user": "IAM user", "role": "IAM role", "root": "root user"}


@dataclass
class Identity:
    account: str
    kind: str
    name: str
    mfa: bool = False
    access_key_id: str | None = None
    via: str | None = None  # for a role: the user ("account/name") whose AssumeRole started the session
    # Why the console is not acting as the stored choice any more (shown, never stored).
    notice: str | None = None

    @property
    def label(self):
        return "root" if self.kind == "root" else self.name

    @property
    def kind_label(self):
        return KINDS[self.kind]

    @property
    def arn(self):
        if self.kind == "user":
            return principals.user_arn(self.account, self.name)
        if self.kind == "role":
            return principals.role_arn(self.account, self.name)
        return principals.root_arn(self.account)

    def as_session(self):
        return {"account": self.account, "kind": self.kind, "name": self.name, "mfa": self.mfa,
                "access_key_id": self.access_key_id, "via": self.via}

    def mfa_user(self):
        """(account, user name) whose MFA device this identity's sessions use."""
        if self.kind == "role":
            return tuple(self.via.split("/", 1))
        return self.account, self.name

    def who(self):
        """The runner's `who`: World -> Caller, built from the world the call runs in."""
        return lambda world: caller(world, self)


def default(world):
    """A new sandbox's first identity: the first account's first user (the seeded `admin`)."""
    for account, entities in world.doc["accounts"].items():
        for name in entities["users"]:
            return Identity(account, "user", name)
        return Identity(account, "root", "root")
    raise LookupError("the sandbox has no accounts")


def exists(world, identity):
    account = world.account(identity.account)
    if account is None:
        return False
    if identity.kind == "root":
        return True
    return identity.name in account["users" if identity.kind == "user" else "roles"]


def current(request, sandbox, world):
    """The identity this session acts as in this sandbox.

    The default identity when the choice is gone: the sandbox was reset, the
    principal deleted, or its STS session expired on the sandbox clock."""
    stored = request.session.get("act_as", {}).get(sandbox.id.hex)
    if stored:
        identity = Identity(**stored)
        session = world.doc["sessions"].get(identity.access_key_id)
        if exists(world, identity) and session is not None and not sts.session_expired(world, session):
            return identity
        if exists(world, identity) and identity.access_key_id is None and identity.kind != "role":
            return identity
        fallback = default(world)
        if session is not None:
            fallback.notice = (f"The STS session of {identity.label} ended on the sandbox clock; "
                               f"the console acts as {fallback.label} until you choose again.")
        else:
            fallback.notice = f"{identity.label} no longer exists; the console acts as {fallback.label}."
        return fallback
    return default(world)


def remember(request, sandbox, identity):
    request.session["act_as"] = {**request.session.get("act_as", {}), sandbox.id.hex: identity.as_session()}


def caller(world, identity):
    if identity.access_key_id:
        return principals.caller_for_access_key(world, identity.access_key_id, user_agent="kmslab-console")
    if identity.kind == "root":
        return principals.root_caller(identity.account, user_agent="kmslab-console")
    account = world.account(identity.account)
    if identity.kind == "user":
        return principals.user_caller(identity.account, account["users"][identity.name], user_agent="kmslab-console")
    # A role with no session: what a session of it would be. The console acts
    # as a role only through a real AssumeRole session; the access preview asks
    # this to decide what such a session could do.
    session = {"Account": identity.account, "Kind": "AssumedRole", "RoleName": identity.name,
               "RoleSessionName": "preview", "AccessKeyId": None, "CreationDate": world.now(),
               "MfaAuthenticated": identity.mfa}
    return principals.session_caller(world, session, user_agent="kmslab-console")


def users(world):
    """Every user of every account, for "assumed by": [(value, label)] grouped by account."""
    return [
        (f"Account {account}", [(f"{account}/{name}", f"user {name}") for name in entities["users"]])
        for account, entities in world.doc["accounts"].items()
    ]


def choices(world):
    """Every principal of every account, for the Act as form: [(value, label)] grouped by account."""
    groups = []
    for account, entities in world.doc["accounts"].items():
        options = [(f"{account}/user/{name}", f"user {name}") for name in entities["users"]]
        options += [(f"{account}/role/{name}", f"role {name}") for name in entities["roles"]]
        options.append((f"{account}/root/root", "root user"))
        groups.append((f"Account {account}", options))
    return groups


# Starting STS sessions. Setting up a device is done as the account's root
# user, who needs no IAM permission; the session itself is started by the
# principal that would start it in AWS: the user (GetSessionToken), or the
# user who assumes the role (AssumeRole).


def mfa_device(world, account, user_name):
    """The user's enabled virtual MFA device with its seed, QR code and current code, or None."""
    devices = (world.account(account) or {}).get("mfa_devices", {})
    for name, device in devices.items():
        if device["UserName"] == user_name:
            seed = iam.mfa_seed(world, device)
            png = mfa.qr_code_png(name, user_name, seed)
            return {
                "account": account,
                "user": user_name,
                "name": name,
                "SerialNumber": device["SerialNumber"],
                "EnableDate": device["EnableDate"],
                "qr": "data:image/png;base64," + base64.b64encode(png).decode(),
                "code": mfa.totp(seed, time.time()),
                "seconds_left": mfa.STEP - int(time.time()) % mfa.STEP,
            }
    return None


def ensure_mfa_device(sandbox_id, account, user_name):
    """The user's MFA device, created and enabled with real IAM calls (as root) if it has none.

    Returns (device or None, [outcomes of the calls made])."""
    device = mfa_device(runner.load_world(sandbox_id), account, user_name)
    if device:
        return device, []
    as_root = lambda world: principals.root_caller(account, user_agent="kmslab-console")  # noqa: E731
    created = runner.run(sandbox_id, as_root, "iam", "CreateVirtualMFADevice",
                         {"VirtualMFADeviceName": f"{user_name}-console"})
    if created.error:
        return None, [created]
    virtual = created.response["VirtualMFADevice"]
    seed = virtual["Base32StringSeed"].decode()
    now = time.time()
    enabled = runner.run(sandbox_id, as_root, "iam", "EnableMFADevice", {
        "UserName": user_name, "SerialNumber": virtual["SerialNumber"],
        "AuthenticationCode1": mfa.totp(seed, now - mfa.STEP), "AuthenticationCode2": mfa.totp(seed, now),
    })
    if enabled.error:
        return None, [created, enabled]
    return mfa_device(runner.load_world(sandbox_id), account, user_name), [created, enabled]


def start_session(sandbox_id, identity, token_code=""):
    """Start the STS session an identity needs; returns (identity with its session or None, outcomes).

    A user with MFA: GetSessionToken with SerialNumber and TokenCode. A role:
    AssumeRole, called by the `via` user, with that user's MFA when asked for.
    An empty token_code is filled in with the device's current code."""
    if identity.kind == "role":
        caller_account, caller_name = identity.via.split("/", 1)
    else:
        caller_account, caller_name = identity.account, identity.name
    outcomes = []
    request = {}
    if identity.mfa:
        device, outcomes = ensure_mfa_device(sandbox_id, caller_account, caller_name)
        if device is None:
            return None, outcomes
        request = {"SerialNumber": device["SerialNumber"], "TokenCode": token_code or device["code"]}
    caller = Identity(caller_account, "user", caller_name).who()
    if identity.kind == "role":
        role = runner.load_world(sandbox_id).account(identity.account)["roles"][identity.name]
        request.update(RoleArn=role["Arn"], RoleSessionName=f"console-{caller_name}")
        outcome = runner.run(sandbox_id, caller, "sts", "AssumeRole", request)
    else:
        outcome = runner.run(sandbox_id, caller, "sts", "GetSessionToken", request)
    outcomes.append(outcome)
    if outcome.error:
        return None, outcomes
    identity.access_key_id = outcome.response["Credentials"]["AccessKeyId"]
    return identity, outcomes
