"""The default world every new sandbox starts from."""
from . import iam
from .world import World

ACCOUNTS = ("111122223333", "444455556666")


def default_world(master_key, clock=None):
    """Two accounts, each with an IAM user `admin` (allow-all inline policy) and an access key.

    Returns (world, principals), where each principal is
    {"arn", "access_key_id", "secret_access_key"}: the only time the secret is shown.
    """
    world = World.new(master_key, clock)
    principals = []
    for account in ACCOUNTS:
        world.add_account(account)
        user = iam.add_user(world, account, "admin")
        user["InlinePolicies"]["AdministratorAccess"] = iam.ALLOW_ALL
        key, secret = iam.add_access_key(world, account, "admin")
        principals.append({"arn": user["Arn"], "access_key_id": key["AccessKeyId"], "secret_access_key": secret})
    return world, principals
