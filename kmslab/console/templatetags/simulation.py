"""Linking a CloudTrail record to the policy simulator with its inputs filled in."""
from django import template

from ..simulator import query_from_record

register = template.Library()


@register.filter
def simulator_query(record):
    """A CloudTrail record -> the simulator's query string (principal, action, key, context, MFA, IP)."""
    return query_from_record(record)
