"""Requests signed by botocore itself, as the clients we serve sign them."""
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL = "http://127.0.0.1:8000/aws/"


def signed(service, body, headers, access_key="AKIAEXAMPLE000000001", secret="s3cr3t", token=None,
           region="us-east-1", url=URL):
    """(method, headers as {lower-case name: value}, body) of a request botocore signed."""
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials(access_key, secret, token), service, region).add_auth(request)
    prepared = request.prepare()
    sent = {k.lower(): v for k, v in prepared.headers.items()}
    sent.setdefault("host", url.split("/")[2])
    return sent, prepared.body or b""


def kms_request(operation, payload, **kwargs):
    headers = {"X-Amz-Target": f"TrentService.{operation}", "Content-Type": "application/x-amz-json-1.1"}
    return signed("kms", payload, headers, **kwargs)
