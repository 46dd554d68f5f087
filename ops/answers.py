"""The merchant orders page's accept, reject and ready: the tablet API's own views, signed in by the
admin's session instead of a JWT.

Subclassing the tablet views (rather than calling the services again from admin code) keeps one
definition of what the page and the tablet may do: the same lookup (an order outside the caller's
merchants is a 404), the same input checks, the same services, the same error codes and body. DRF's
`SessionAuthentication` enforces Django's CSRF check on every one of these POSTs. They are left out of
the public API schema: only the admin page calls them.
"""

from collections.abc import Sequence

from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from orders.api.views import MerchantAcceptApi, MerchantReadyApi, MerchantRejectApi


class AdminSession:
    authentication_classes: Sequence[type[BaseAuthentication]] = [SessionAuthentication]
    schema = None


class AcceptFromAdmin(AdminSession, MerchantAcceptApi):
    pass


class RejectFromAdmin(AdminSession, MerchantRejectApi):
    pass


class ReadyFromAdmin(AdminSession, MerchantReadyApi):
    pass
