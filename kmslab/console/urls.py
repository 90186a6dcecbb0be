"""The console's URLs. Names are what templates and tests use; docs/architecture.md ("Console") lists them."""
from django.http import JsonResponse
from django.urls import path

from .views import envelope, iam, keys, policies, sandboxes, simulator, trail

app_name = "console"


def healthz(request):
    return JsonResponse({"status": "ok"})


S = "s/<uuid:sandbox_id>/"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", sandboxes.home, name="home"),
    path("claim/<str:token>/", sandboxes.claim, name="claim"),
    path(S, sandboxes.sandbox, name="sandbox"),
    path(S + "clock/", sandboxes.advance_clock, name="advance_clock"),
    path(S + "act-as/", sandboxes.act_as, name="act_as"),
    path(S + "reset/", sandboxes.reset, name="reset"),
    path(S + "keys/", keys.keys, name="keys"),
    path(S + "keys/<str:key_id>/", keys.key, name="key"),
    path(S + "keys/<str:key_id>/import/", keys.import_key_material, name="import_key_material"),
    path(S + "keys/<str:key_id>/share/", keys.key_share, name="key_share"),
    path(S + "keys/<str:key_id>/public-key.pem", keys.public_key, name="public_key"),
    path(S + "keys/<str:key_id>/<str:operation>/", keys.key_action, name="key_action"),
    path(S + "iam/", iam.iam, name="iam"),
    path(S + "iam/call/<str:operation>/", iam.iam_action, name="iam_action"),
    path(S + "iam/<str:account_id>/users/<str:name>/", iam.iam_user, name="iam_user"),
    path(S + "iam/<str:account_id>/users/<str:name>/access-keys/", iam.create_access_key, name="create_access_key"),
    path(S + "iam/<str:account_id>/users/<str:name>/mfa/", iam.setup_mfa, name="setup_mfa"),
    path(S + "iam/<str:account_id>/users/<str:name>/mfa/code/", iam.mfa_code, name="mfa_code"),
    path(S + "iam/<str:account_id>/roles/<str:name>/", iam.iam_role, name="iam_role"),
    path(S + "trail/", trail.trail, name="trail"),
    path(S + "trail.json", trail.trail_json, name="trail_json"),
    path(S + "trail.csv", trail.trail_csv, name="trail_csv"),
    path(S + "trail/<str:event_id>/", trail.trail_record, name="trail_record"),
    # The teaching pages: policy editors, simulator, envelope encryption (docs/architecture.md, "Console").
    path(S + "policies/", policies.policies, name="policies"),
    path(S + "policies/create/", policies.create_policy, name="create_policy"),
    path(S + "policies/key/<str:key_id>/", policies.key_policy, name="key_policy"),
    path(S + "policies/key/<str:key_id>/sync/", policies.key_policy_sync, name="key_policy_sync"),
    # Before the inline policies' patterns, whose <kind> would take "managed".
    path(S + "policies/<str:account>/managed/<str:name>/", policies.managed_policy, name="managed_policy"),
    path(S + "policies/<str:account>/managed/<str:name>/sync/", policies.managed_policy_sync, name="managed_policy_sync"),
    path(S + "policies/<str:account>/<str:kind>/<str:name>/", policies.new_inline_policy, name="new_inline_policy"),
    path(S + "policies/<str:account>/<str:kind>/<str:name>/<str:policy_name>/", policies.identity_policy,
         name="identity_policy"),
    path(S + "policies/<str:account>/<str:kind>/<str:name>/<str:policy_name>/sync/", policies.identity_policy_sync,
         name="identity_policy_sync"),
    path(S + "envelope/", envelope.envelope_page, name="envelope"),
    path(S + "envelope/encrypt/", envelope.envelope_encrypt, name="envelope_encrypt"),
    path(S + "envelope/decrypt/", envelope.envelope_decrypt, name="envelope_decrypt"),
    path(S + "envelope/direct/", envelope.envelope_direct, name="envelope_direct"),
    path(S + "envelope/direct/decrypt/", envelope.envelope_direct_decrypt, name="envelope_direct_decrypt"),
    path(S + "anatomy/", envelope.anatomy, name="anatomy"),
    path(S + "simulator/", simulator.simulator_page, name="simulator"),
]
