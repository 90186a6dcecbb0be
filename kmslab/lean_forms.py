"""A console form post, parsed a slice at a time.

Django reads a form-encoded body with urllib's unquote, which makes an object
of every %XX escape: a 2.4 MB body of `%7B` (inside the upload limit) took
184 MB and 3 s (tests/fuzz). This middleware parses such a body the way the
AWS endpoint's query protocol does (kmslab/api/query.form_pairs), within the
same limits Django applies, before anything reads request.POST.
"""
from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from kmslab.api.query import form_pairs


class LeanFormMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            body = request.body  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE holds here (RequestDataTooBig: a 400)
            post = QueryDict(mutable=True)
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            for n, (name, value) in enumerate(form_pairs(body, errors="replace"), 1):
                if limit is not None and n > limit:
                    raise TooManyFieldsSent("The number of GET/POST parameters exceeded "
                                            "settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.")
                post.appendlist(name, value)
            post._mutable = False
            request._post, request._files = post, MultiValueDict()
        return self.get_response(request)
