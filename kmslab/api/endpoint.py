"""The AWS endpoint (/aws/). Built out by the wire-compatibility work."""
import json


async def aws_endpoint(scope, receive, send):
    body = json.dumps({"__type": "UnknownOperationException", "message": "The AWS endpoint is not built yet"}).encode()
    await send({"type": "http.response.start", "status": 400, "headers": [(b"content-type", b"application/x-amz-json-1.1")]})
    await send({"type": "http.response.body", "body": body})
