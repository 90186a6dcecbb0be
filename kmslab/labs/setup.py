"""A lab's fresh world: the default world, the lab's cast, and what its setup file holds.

Everything is made with real calls (`calls.call`) as each account's admin or
root, so a lab's keys, policies and ciphertexts are exactly what a learner
would get by making those calls; their trail records are not kept.

Two additions: `grants` are made with CreateGrant by the key's admin (records
not kept either; `file` hands a grant's id over as a lab file), and `probes` are calls made last as named principals whose
CloudTrail records ARE kept: they are the lab's own history (a trail to
investigate). They are stored, oldest first, in `world.doc["lab"]["trail"]`
(see `seeded_records`); a run's records start with them.
"""
import base64
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


from kmslab.cloud import calls, mfa, principals, seed, shapes
from kmslab.cloud.clock import parse_duration
from kmslab.cloud.kms.schedule import run_due

from .catalog import ACCOUNTS, CAST, placeholders, substitute

ADMIN_STATEMENT = {
    "Sid": "LabAdmin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{{account}}:user/admin"},
    "Action": "kms:*", "Resource": "*",
}
ROOT_STATEMENT = {
    "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{{account}}:root"},
    "Action": "kms:*", "Resource": "*",
}


class SetupError(RuntimeError):
    pass


def account_of(ref):
    return ACCOUNTS.get(ref or "A", ref)


def build(lab, master_key, clock=None):
    """-> (world, principals [{"name", "arn", "access_key_id", "secret_access_key"}], keys {alias: ARN}, files)."""
    world, admins = seed.default_world(master_key, clock)
    made = [dict(p, name="admin" if p["arn"].startswith(f"arn:aws:iam::{ACCOUNTS['A']}:") else "admin@B")
            for p in admins]
    keys, files = {}, {}

    lookup = placeholders(keys, files, world.region)

    def call(account, service, operation, request, caller=None):
        caller = caller or principals.root_caller(account)
        outcome = calls.call(world, caller, service, operation, substitute(request, lookup))
        if outcome.error:
            raise SetupError(f"{lab.slug}: {operation} failed in setup: {outcome.error.code}: {outcome.error.message}")
        return outcome.response

    users = {u["name"]: u for u in lab.setup.get("users", ())}
    cast = [(ref, name) for ref, name in CAST] + [(u.get("account", "A"), n) for n, u in users.items()
                                                  if n not in {c for _, c in CAST}]
    for group in lab.setup.get("groups", ()):
        account = account_of(group.get("account"))
        call(account, "iam", "CreateGroup", {"GroupName": group["name"]})
    for role in lab.setup.get("roles", ()):
        account = account_of(role.get("account"))
        # Without a trust policy of its own, a role trusts its account (any principal its IAM lets assume it).
        trust = role.get("trust") or json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": principals.root_arn(account)}, "Action": "sts:AssumeRole"}]})
        call(account, "iam", "CreateRole", {"RoleName": role["name"], "AssumeRolePolicyDocument": trust})
    for ref, name in cast:
        account = account_of(ref)
        spec = users.get(name, {})
        call(account, "iam", "CreateUser", {"UserName": name})
        for group in spec.get("groups", ()):
            call(account, "iam", "AddUserToGroup", {"GroupName": group, "UserName": name})
        key = call(account, "iam", "CreateAccessKey", {"UserName": name})["AccessKey"]
        made.append({"name": name, "arn": principals.user_arn(account, name),
                     "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]})
        if spec.get("access_key_file"):
            # The user's access key id as a lab file (a leaked key an alert names, say); never its secret.
            files[f"{name}-access-key-id"] = key["AccessKeyId"]
        if spec.get("mfa"):
            device = call(account, "iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": name})["VirtualMFADevice"]
            seed_text = device["Base32StringSeed"].decode()
            now = world.clock.real()
            call(account, "iam", "EnableMFADevice", {
                "UserName": name, "SerialNumber": device["SerialNumber"],
                "AuthenticationCode1": mfa.totp(seed_text, now - mfa.STEP),
                "AuthenticationCode2": mfa.totp(seed_text, now)})
            files[f"{name}-mfa-seed"] = seed_text
            files[f"{name}-mfa-serial"] = device["SerialNumber"]
    for spec in lab.setup.get("keys", ()):
        account = account_of(spec.get("account"))
        admin = _admin(world, account)
        request = {"Description": spec.get("description", ""), "Policy": _key_policy(spec, account, lookup)}
        if spec.get("origin"):
            request["Origin"] = spec["origin"]
        if spec.get("tags"):
            request["Tags"] = [{"TagKey": k, "TagValue": v} for k, v in spec["tags"].items()]
        meta = call(account, "kms", "CreateKey", request, admin)["KeyMetadata"]
        keys[spec["alias"]] = meta["Arn"]
        if spec.get("origin") == "EXTERNAL" and spec.get("material_file"):
            material = os.urandom(32)
            valid_to = world.now() + parse_duration(spec["material_expires"]) if spec.get("material_expires") else None
            import_material(lambda op, request: ("", call(account, "kms", op, request, admin)), meta["KeyId"],
                            material, valid_to)
            # The learner's own copy, to import again after DeleteImportedKeyMaterial (base64, as boto3 takes it).
            files[spec["material_file"]] = base64.b64encode(material).decode()
        call(account, "kms", "CreateAlias", {"AliasName": spec["alias"], "TargetKeyId": meta["KeyId"]}, admin)
        if spec.get("rotation"):
            call(account, "kms", "EnableKeyRotation", {"KeyId": meta["KeyId"]}, admin)
        if spec.get("disabled"):
            call(account, "kms", "DisableKey", {"KeyId": meta["KeyId"]}, admin)
    # Identity policies last: they may name the keys' ARNs.
    managed = {}
    for policy in lab.setup.get("managed_policies", ()):
        account = account_of(policy.get("account"))
        made_policy = call(account, "iam", "CreatePolicy",
                           {"PolicyName": policy["name"], "PolicyDocument": policy["document"]})["Policy"]
        managed[(account, policy["name"])] = made_policy["Arn"]
    for kind, entities in (("User", users.values()), ("Group", lab.setup.get("groups", ())),
                           ("Role", lab.setup.get("roles", ()))):
        for entity in entities:
            account = account_of(entity.get("account"))
            for name in entity.get("managed", ()):
                call(account, "iam", f"Attach{kind}Policy",
                     {f"{kind}Name": entity["name"], "PolicyArn": managed[(account, name)]})
    for role in lab.setup.get("roles", ()):
        for name, document in role.get("policies", {}).items():
            call(account_of(role.get("account")), "iam", "PutRolePolicy",
                 {"RoleName": role["name"], "PolicyName": name, "PolicyDocument": document})
    for group in lab.setup.get("groups", ()):
        for name, document in group.get("policies", {}).items():
            call(account_of(group.get("account")), "iam", "PutGroupPolicy",
                 {"GroupName": group["name"], "PolicyName": name, "PolicyDocument": document})
    for ref, name in cast:
        for policy, document in users.get(name, {}).get("policies", {}).items():
            call(account_of(ref), "iam", "PutUserPolicy",
                 {"UserName": name, "PolicyName": policy, "PolicyDocument": document})
    for spec in lab.setup.get("grants", ()):
        key_arn = keys[spec["key"]]
        account = key_arn.split(":")[4]
        request = {"KeyId": key_arn, "GranteePrincipal": principal_arn(world, spec["grantee"]),
                   "Operations": list(spec["operations"])}
        if spec.get("retiring"):
            request["RetiringPrincipal"] = principal_arn(world, spec["retiring"])
        if spec.get("constraints"):
            request["Constraints"] = spec["constraints"]
        if spec.get("name"):
            request["Name"] = spec["name"]
        made_grant = call(account, "kms", "CreateGrant", request, _admin(world, account))
        if spec.get("file"):
            # The grant's id handed over as a lab file (an audit finding, say).
            files[spec["file"]] = made_grant["GrantId"]
    for spec in lab.setup.get("ciphertexts", ()):
        key_arn = keys[spec["key"]]
        account = key_arn.split(":")[4]
        request = {"KeyId": key_arn, "Plaintext": spec["plaintext"].encode()}
        if spec.get("context"):
            request["EncryptionContext"] = spec["context"]
        blob = call(account, "kms", "Encrypt", request, _admin(world, account))["CiphertextBlob"]
        files[spec["name"]] = base64.b64encode(blob).decode()
    trail = _probes(lab, world, made, lookup)
    if lab.setup.get("clock"):
        # The lab starts this long after its setup was made (keys of some age, say); what fell due has run.
        world.clock.advance(parse_duration(lab.setup["clock"]))
        run_due(world)
    world.doc["lab"] = {"slug": lab.slug, "keys": keys, "clock_offset": world.clock.offset,
                        "files": {name: world.seal("lab-file", value.encode()) for name, value in files.items()}}
    if trail:
        world.doc["lab"]["trail"] = trail
    return world, made, keys, files


def _probes(lab, world, made, lookup):
    """The setup's `probes`: calls as named principals ({as, call = "kms:Op", request, expect = error
    code or "ok", advance = "2h" before the call}); -> [{"record", "explanations"}], oldest first:
    each CloudTrail record with the authorization decisions its call took, as the runner keeps them."""
    keys_of = {p["name"]: p["access_key_id"] for p in made}
    records = []
    for i, spec in enumerate(lab.setup.get("probes", ()), 1):
        if spec.get("advance"):
            world.clock.advance(parse_duration(spec["advance"]))
        service, _, operation = spec["call"].partition(":")
        caller = principals.caller_for_access_key(world, keys_of[spec["as"]])
        request = decode_blobs(service, operation, substitute(spec.get("request", {}), lookup))
        outcome = calls.call(world, caller, service, operation, request)
        code = outcome.error.code if outcome.error else "ok"
        if code != spec.get("expect", "ok"):
            raise SetupError(f"{lab.slug}: probe {i} ({spec['as']} {operation}) expected {spec.get('expect', 'ok')}, "
                             f"got {code}")
        records.extend({"record": r, "explanations": []} for r in outcome.service_records)
        records.append({"record": outcome.record, "explanations": outcome.explanations})
        records.extend({"record": r, "explanations": []} for r in outcome.later_records)
    return records


def seeded_trail(world):
    """The setup's probes as [(CloudTrail record, explanations)], oldest first: what a run's trail
    starts with (the shape runner._commit's work returns)."""
    return [(e["record"], e["explanations"]) for e in (world.doc.get("lab") or {}).get("trail", ())]


def seeded_records(world):
    """The CloudTrail records the lab's setup made on purpose (its probes), oldest first."""
    return [record for record, _ in seeded_trail(world)]


def principal_arn(world, name):
    """A lab file's principal -> ARN: "bob", "carol@B", "root" / "root@B" (the account), or an ARN."""
    if name.startswith("arn:"):
        return name
    user, _, ref = name.partition("@")
    account = account_of(ref or "A")
    if user == "root":
        return principals.root_arn(account)
    if user in world.account(account)["roles"]:
        return world.account(account)["roles"][user]["Arn"]
    return principals.user_arn(account, user)


def import_material(call, key_id, material, valid_to=None):
    """GetParametersForImport, the material wrapped with its public key, then ImportKeyMaterial: what a key
    administrator does with BYOK. `call(operation, request)` -> (error code or "", response); returns
    ImportKeyMaterial's."""
    code, params = call("GetParametersForImport", {"KeyId": key_id, **WRAPPING})
    if code:
        return code, None
    request = {"KeyId": key_id, "ImportToken": params["ImportToken"],
               "EncryptedKeyMaterial": wrap_material(params["PublicKey"], material),
               "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}
    if valid_to is not None:
        request.update(ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=valid_to)
    return call("ImportKeyMaterial", request)


def decode_blobs(service, operation, request):
    """Base64 text (as lab files hold it) -> bytes for the operation's blob members (top-level ones: all KMS needs)."""
    out = dict(request)
    for name, member in shapes.operation_model(service, operation).input_shape.members.items():
        if name in out and member.type_name == "blob" and isinstance(out[name], str):
            out[name] = base64.b64decode(out[name])
    return out


# The wrapping a lab asks GetParametersForImport for (AWS's recommended RSA one).
WRAPPING = {"WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}


def wrap_material(public_key_der, material):
    """Key material encrypted to GetParametersForImport's public key, as the learner's own code does it."""
    public_key = serialization.load_der_public_key(public_key_der)
    return public_key.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                                                     label=None))


def _admin(world, account):
    return principals.user_caller(account, world.account(account)["users"]["admin"])


def base_statements(account, delegate):
    """What every lab key policy starts with: the account's admin named with full access, and
    AWS's root statement when the key delegates to the account's IAM policies."""
    statements = [ADMIN_STATEMENT] + ([ROOT_STATEMENT] if delegate else [])
    return [json.loads(json.dumps(s).replace("{{account}}", account)) for s in statements]


def _key_policy(spec, account, lookup):
    if spec.get("policy"):
        return substitute(spec["policy"], lookup)
    statements = base_statements(account, spec.get("delegate", False))
    statements += [json.loads(substitute(s, lookup)) for s in spec.get("statements", ())]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def lab_files(world):
    """The files a lab run hands over, unsealed: {name: text}."""
    sealed = (world.doc.get("lab") or {}).get("files", {})
    return {name: world.unseal("lab-file", value).decode() for name, value in sealed.items()}


def lab_keys(world):
    return (world.doc.get("lab") or {}).get("keys", {})


