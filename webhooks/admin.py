"""The admin of partner webhooks: register an endpoint (its secret is shown once, in the page's
message), enable a disabled one, read the delivery log and redeliver."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from loship.errors import ApplicationError
from webhooks import services
from webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint
from webhooks.targets import TargetRefused, check


class EndpointForm(forms.ModelForm[WebhookEndpoint]):
    url = forms.URLField(max_length=500, assume_scheme="https", label=_("url"))
    events = forms.MultipleChoiceField(
        choices=[(topic, topic) for topic in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        label=_("events"),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["merchant", "url", "events", "description"]

    def clean(self) -> dict[str, Any]:
        """The per-merchant limit, said on the form (the service still counts it under a lock)."""
        cleaned = super().clean() or {}
        merchant = cleaned.get("merchant")
        limit = settings.WEBHOOKS_MAX_ENDPOINTS_PER_MERCHANT
        if self.instance.pk is None and merchant is not None and merchant.webhook_endpoints.count() >= limit:
            raise forms.ValidationError(
                _("A merchant may have at most %(limit)d webhook endpoints.") % {"limit": limit}
            )
        return cleaned

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            check(url)
        except TargetRefused as exc:
            raise forms.ValidationError(str(exc), code=exc.code) from exc
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    form = EndpointForm
    list_display = ["id", "merchant", "url", "is_active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "merchant__name"]
    raw_id_fields = ["merchant"]
    readonly_fields = [
        "is_active",
        "disabled_at",
        "disabled_reason",
        "consecutive_failures",
        "failing_since",
        "created_by",
        "created_at",
    ]
    actions = ["enable", "roll_secret"]

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> list[str]:
        """An endpoint stays with the merchant it was made for."""
        return [*self.readonly_fields, *(["merchant"] if obj is not None else [])]

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        """A new endpoint goes through the service (the per-merchant limit, the sealed secret), whose
        secret is shown in this one message; a change saves what the form edits."""
        if change:
            services.update_endpoint(
                endpoint_id=obj.pk, url=obj.url, events=list(obj.events), description=obj.description
            )
            return
        endpoint, secret = services.register_endpoint(
            merchant_id=obj.merchant_id,
            url=obj.url,
            events=list(obj.events),
            description=obj.description,
            created_by=request.user,
        )
        obj.pk = endpoint.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            _("Signing secret of endpoint %(id)s, shown only now: %(secret)s")
            % {"id": endpoint.pk, "secret": secret},
            messages.WARNING,
        )

    @admin.action(description=_("Enable the selected endpoints (clears the failure streak)"))
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            services.update_endpoint(endpoint_id=endpoint.pk, is_active=True)
        self.message_user(request, _("Enabled %(count)d endpoint(s).") % {"count": queryset.count()})

    @admin.action(description=_("Roll the signing secret (the new one is shown once)"))
    def roll_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            _endpoint, secret = services.roll_secret(endpoint_id=endpoint.pk)
            self.message_user(
                request,
                _("New signing secret of endpoint %(id)s, shown only now: %(secret)s")
                % {"id": endpoint.pk, "secret": secret},
                messages.WARNING,
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = [
        "id",
        "endpoint",
        "topic",
        "order_id",
        "status",
        "attempts",
        "response_code",
        "latency_ms",
        "short_error",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "topic"]
    search_fields = ["event_id", "order_id"]
    list_select_related = ["endpoint"]
    actions = ["redeliver"]

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> list[str]:
        return [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("error"))
    def short_error(self, delivery: WebhookDelivery) -> str:
        return delivery.last_error[:80]

    @admin.action(description=_("Redeliver the selected deliveries now"))
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        for delivery in queryset:
            try:
                services.redeliver(delivery_id=delivery.pk)
                done += 1
            except ApplicationError as exc:
                self.message_user(
                    request,
                    _("Delivery %(id)s: %(message)s") % {"id": delivery.pk, "message": exc.message},
                    messages.ERROR,
                )
        self.message_user(request, _("Queued %(count)d delivery(ies) again.") % {"count": done})
