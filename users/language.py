"""The admin speaks the language its reader chose: Vietnamese unless they picked English.

A signed-in person's choice is `User.language`, so it follows them to any browser or device; the
switcher in the admin header (`switch_language`) saves it there and in Django's language cookie, which
with the browser's Accept-Language is what the login page goes by. The cookie's path is the admin's
(settings.LANGUAGE_COOKIE_PATH), and this middleware leaves the REST API alone: the API's language is
the request's Accept-Language, as before.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from loship.serving import served_by_api_stack
from users import services
from users.models import Language, User


class UserLanguageMiddleware:
    """After authentication: a signed-in admin user reads pages in `user.language`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            isinstance(user, User)
            and user.language in Language.values
            and not served_by_api_stack(request.path)
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Remember the chosen language (on the account when signed in) and go back where the form was."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("admin:index")
    response = HttpResponseRedirect(target)
    if language not in Language.values:
        return response
    if isinstance(request.user, User) and request.user.is_authenticated:
        services.set_language(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
