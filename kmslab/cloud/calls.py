"""One call: (world, caller, service, operation, request) -> outcome.

This is the only way anything happens in a world. The console and the wire
API are two front doors to it; neither has logic of its own. Every call gives
exactly one CloudTrail record, whether it succeeded or failed, and the
authorization decisions it took (the "why" the console shows beside the record).
"""
from dataclasses import dataclass, field

from . import cloudtrail, iam, kms, sts  # noqa: F401  (they register their operations)
from . import records, shapes
from .errors import AWSError, UnknownOperationException
from .kms.schedule import run_due
from .operations import REGISTRY


@dataclass(slots=True)
class Context:
    """What an operation gets beside its request, and what it hands back for the record.

    Every field is declared here (slots: setting any other is an AttributeError), so an
    operation's inputs are the ones listed and its outputs go to the record by name.
    Whatever belongs to one step of an operation (the alias that named a key, for
    kms:RequestAlias) is passed to that step, not left on the context.
    """

    world: object  # world.World
    caller: object  # principals.Caller
    service: str
    operation: str
    request: dict
    region: str  # the request's Region
    time: float  # the sandbox clock when the call started (world.now())
    read_only: bool
    request_id: str = field(default_factory=records.new_event_id)
    resources: list = field(default_factory=list)  # key ARNs, in the order CloudTrail lists them
    explanations: list = field(default_factory=list)  # authorization decisions taken
    additional_event_data: dict = field(default_factory=dict)
    recipient_account: str | None = None
    logged_request: dict | None = None  # what CloudTrail shows as requestParameters
    # Records the call writes after its own: in other Regions (ReplicateKey's CreateKey in the
    # replica's Region), and service events it causes (RotateKeyOnDemand's RotateKey).
    later_records: list = field(default_factory=list)
    # Trail records the call can read (CloudTrail LookupEvents); the sandbox layer supplies them.
    trail: object = None

    def add_resource(self, arn):
        if arn not in self.resources:
            self.resources.append(arn)


@dataclass
class Outcome:
    response: dict | None
    error: AWSError | None
    record: dict  # the call's own CloudTrail record
    explanations: list
    service_records: list  # what fell due before the call (e.g. DeleteKey service events)
    later_records: list = field(default_factory=list)  # what the call wrote after its own record (Context)

    @property
    def records(self):
        return self.service_records + [self.record] + self.later_records


def call(world, caller, service, operation, request, region=None, trail_source=None):
    service_records = run_due(world)
    op = REGISTRY.get((service, operation))
    ctx = Context(
        world=world,
        caller=caller,
        service=service,
        operation=operation,
        request=request,
        region=region or world.region,
        time=world.now(),
        read_only=op.read_only if op else True,
        logged_request=request,
        trail=trail_source,
    )
    response = error = None
    try:
        if op is None:
            raise UnknownOperationException(f"Unknown operation {operation}")
        shapes.validate(service, operation, request)
        response = op.fn(ctx, request)
    except AWSError as exc:
        error = exc
    record = records.api_call_record(ctx, response, error)
    return Outcome(response, error, record, ctx.explanations, service_records, ctx.later_records)
