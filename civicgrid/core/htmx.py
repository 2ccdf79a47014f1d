"""The one HTMX helper: should this request get a partial instead of the full page?"""

from django.http import HttpRequest


def htmx_partial(request: HttpRequest) -> bool:
    # A boosted request wants the whole page (it replaces <body>); any other HTMX request
    # targets one element and gets only that element's template.
    return bool(request.htmx) and not request.htmx.boosted
