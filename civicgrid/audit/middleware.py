"""Puts the current request in the audit context, so change entries know their actor and IP."""

from civicgrid.audit import context


class AuditContextMiddleware:
    """Sets civicgrid.audit.context.current for the duration of each request.

    Place it right after django.contrib.auth.middleware.AuthenticationMiddleware. The user is
    read from the request when an entry is written, not here, so a login or logout during the
    request is seen and requests that change nothing never load the user.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.audit_request_id = context.new_request_id(request)
        token = context.current.set(context.AuditContext(request=request, request_id=request.audit_request_id))
        try:
            return self.get_response(request)
        finally:
            context.current.reset(token)
