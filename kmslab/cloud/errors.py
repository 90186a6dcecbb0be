"""AWS errors, one class per error code, named as AWS names them.

The wire layer turns one of these into `{"__type": code, "message": ...}` (JSON
services) or an XML `ErrorResponse` (query services). AWS answers client errors
with HTTP 400 on the JSON 1.1 wire even where its Smithy model declares 404 or
409 (see shared/research/kms-emulators.md §4), so 400 is the default here.
"""


class AWSError(Exception):
    status = 400
    # Query-protocol services (IAM, STS) say whether the fault is the caller's.
    sender_fault = True

    def __init__(self, message=""):
        super().__init__(message)
        self.message = message

    @property
    def code(self):
        return type(self).__name__


def _error(name, status=400, sender_fault=True):
    return type(name, (AWSError,), {"status": status, "sender_fault": sender_fault})


# KMS (botocore's kms service model lists each of these).
AlreadyExistsException = _error("AlreadyExistsException")
CloudHsmClusterNotFoundException = _error("CloudHsmClusterNotFoundException")
CustomKeyStoreNotFoundException = _error("CustomKeyStoreNotFoundException")
DisabledException = _error("DisabledException")
DryRunOperationException = _error("DryRunOperationException", 412)
ExpiredImportTokenException = _error("ExpiredImportTokenException")
IncorrectKeyException = _error("IncorrectKeyException")
IncorrectKeyMaterialException = _error("IncorrectKeyMaterialException")
InvalidCiphertextException = _error("InvalidCiphertextException")
InvalidGrantIdException = _error("InvalidGrantIdException")
InvalidGrantTokenException = _error("InvalidGrantTokenException")
InvalidImportTokenException = _error("InvalidImportTokenException")
InvalidKeyUsageException = _error("InvalidKeyUsageException")
InvalidMarkerException = _error("InvalidMarkerException")
KMSInvalidMacException = _error("KMSInvalidMacException")
KMSInvalidSignatureException = _error("KMSInvalidSignatureException")
KMSInvalidStateException = _error("KMSInvalidStateException")
LimitExceededException = _error("LimitExceededException")
MalformedPolicyDocumentException = _error("MalformedPolicyDocumentException")
NotFoundException = _error("NotFoundException")
# Not in the model, but what KMS answers to CreateAlias/UpdateAlias/DeleteAlias on alias/aws/ names.
NotAuthorizedException = _error("NotAuthorizedException")
TagException = _error("TagException")
UnsupportedOperationException = _error("UnsupportedOperationException")
XksProxyUriUnreachableException = _error("XksProxyUriUnreachableException")
XksProxyVpcEndpointServiceNotFoundException = _error("XksProxyVpcEndpointServiceNotFoundException")

# Common to every AWS service.
AccessDeniedException = _error("AccessDeniedException")
ValidationException = _error("ValidationException")
SerializationException = _error("SerializationException")
UnknownOperationException = _error("UnknownOperationException")
MissingAuthenticationTokenException = _error("MissingAuthenticationTokenException", 403)
IncompleteSignatureException = _error("IncompleteSignatureException")
InvalidSignatureException = _error("InvalidSignatureException")
UnrecognizedClientException = _error("UnrecognizedClientException")
ExpiredTokenException = _error("ExpiredTokenException")

# IAM and STS (query protocol; the code is what AWS puts in <Code>).
AccessDenied = _error("AccessDenied", 403)
NoSuchEntity = _error("NoSuchEntity", 404)
EntityAlreadyExists = _error("EntityAlreadyExists", 409)
DeleteConflict = _error("DeleteConflict", 409)
LimitExceeded = _error("LimitExceeded", 409)
MalformedPolicyDocument = _error("MalformedPolicyDocument")
InvalidInput = _error("InvalidInput")
InvalidParameterValue = _error("InvalidParameterValue")
InvalidAuthenticationCode = _error("InvalidAuthenticationCode", 403)
InvalidAction = _error("InvalidAction")
InvalidClientTokenId = _error("InvalidClientTokenId", 403)

# CloudTrail.
InvalidLookupAttributesException = _error("InvalidLookupAttributesException")
InvalidTimeRangeException = _error("InvalidTimeRangeException")
InvalidNextTokenException = _error("InvalidNextTokenException")


# IAM and STS answer a request that breaks a constraint with ValidationError
# (query protocol), where JSON services say ValidationException.
ValidationError = _error("ValidationError")
