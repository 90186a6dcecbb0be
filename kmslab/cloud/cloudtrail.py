"""CloudTrail: LookupEvents over the records the sandbox layer stored."""
