"""The merchant's menu page in the admin: export the menu (CSV, XLSX), import a sheet (upload,
preview, apply) and reorder categories and dishes by dragging them.

Anyone who may see the merchant may open the page and export; only its owner, its managers and ops
may import or reorder. Another merchant's page is a 404, whatever the URL says.

Between preview and apply the sheet travels in the page itself, signed (`django.core.signing`) with
the merchant, the user, the choice for missing rows and the menu's fingerprint, so nothing is stored
server-side and a tampered or re-targeted form is refused.
"""

import json
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from loship.errors import ApplicationError, CommonErrors, error_body
from loship.money import format_vnd
from merchants import services_menu
from merchants.menu_current import export_rows, load_menu
from merchants.menu_plan import Action, Missing
from merchants.menu_sheet import (
    MAX_FILE_BYTES,
    Sheet,
    SheetError,
    SheetRow,
    read_sheet,
    write_csv,
    write_xlsx,
)
from merchants.models import Merchant

if TYPE_CHECKING:
    from merchants.admin import MerchantAdmin

SIGNING_SALT = "merchants.menu-sheet"
#: How long a preview may be applied: long enough to read it, short enough not to linger.
PREVIEW_MAX_AGE_SECONDS = 60 * 60

MISSING_CHOICES = [
    (Missing.KEEP, _("Keep them as they are")),
    (Missing.HIDE, _("Mark them sold out")),
    (Missing.DELETE, _("Delete them")),
]
ACTION_LABELS = {
    Action.CREATE: _("New"),
    Action.CHANGE: _("Changed"),
    Action.REORDER: _("Reordered"),
    Action.HIDE: _("Marked sold out"),
    Action.DELETE: _("Deleted"),
    Action.KEEP: _("Not in the sheet, kept"),
}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class MenuPages:
    """The views, bound to the merchant admin for its permission rules and admin context."""

    def __init__(self, model_admin: "MerchantAdmin") -> None:
        self.admin = model_admin

    def urls(self) -> list[URLPattern]:
        wrap = self.admin.admin_site.admin_view
        return [
            path("<int:merchant_id>/menu/", wrap(self.menu), name="merchants_merchant_menu"),
            path(
                "<int:merchant_id>/menu/export.<str:file_format>",
                wrap(self.export),
                name="merchants_merchant_menu_export",
            ),
            path(
                "<int:merchant_id>/menu/import/",
                wrap(self.import_sheet),
                name="merchants_merchant_menu_import",
            ),
            path("<int:merchant_id>/menu/order/", wrap(self.reorder), name="merchants_merchant_menu_order"),
        ]

    def _merchant(self, request: HttpRequest, merchant_id: int, *, manage: bool) -> Merchant:
        merchant = self.admin.get_queryset(request).filter(pk=merchant_id).first()
        if merchant is None or not self.admin.has_view_permission(request, merchant):
            raise Http404
        if manage and not self.admin.has_change_permission(request, merchant):
            raise PermissionDenied
        return merchant

    def _context(self, request: HttpRequest, merchant: Merchant, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin.admin_site.each_context(request),
            "opts": Merchant._meta,
            "merchant": merchant,
            "may_manage": self.admin.has_change_permission(request, merchant),
            "missing_choices": MISSING_CHOICES,
            "menu_url": reverse("admin:merchants_merchant_menu", args=[merchant.pk]),
            **extra,
        }

    def menu(self, request: HttpRequest, merchant_id: int) -> HttpResponse:
        merchant = self._merchant(request, merchant_id, manage=False)
        menu = load_menu(merchant.pk)
        rows = [(item, format_vnd(item.price_vnd)) for item in menu.items]
        sections = [
            {"category": category, "rows": [row for row in rows if row[0].category_id == category.pk]}
            for category in menu.categories
        ]
        uncategorized = [row for row in rows if row[0].category_id is None]
        if uncategorized:
            sections.append({"category": None, "rows": uncategorized})
        context = self._context(
            request, merchant, sections=sections, title=_("Menu of %(name)s") % {"name": merchant.name}
        )
        return TemplateResponse(request, "admin/merchants/merchant/menu.html", context)

    def export(self, request: HttpRequest, merchant_id: int, file_format: str) -> HttpResponse:
        merchant = self._merchant(request, merchant_id, manage=False)
        if file_format not in CONTENT_TYPES:
            raise Http404
        rows = export_rows(load_menu(merchant.pk))
        body = write_csv(rows) if file_format == "csv" else write_xlsx(rows, title=merchant.name)
        response = HttpResponse(body, content_type=CONTENT_TYPES[file_format])
        filename = f"menu-{slugify(merchant.slug or merchant.name) or merchant.pk}.{file_format}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def import_sheet(self, request: HttpRequest, merchant_id: int) -> HttpResponse:
        merchant = self._merchant(request, merchant_id, manage=True)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:merchants_merchant_menu", args=[merchant.pk]))
        if "token" in request.POST:
            return self._apply(request, merchant)
        return self._preview(request, merchant)

    def _preview(self, request: HttpRequest, merchant: Merchant) -> HttpResponse:
        upload = request.FILES.get("sheet")
        try:
            missing = Missing(request.POST.get("missing", Missing.KEEP))
        except ValueError:
            missing = Missing.KEEP
        if upload is None:
            messages.error(request, _("Choose a .csv or .xlsx file to upload."))
            return HttpResponseRedirect(reverse("admin:merchants_merchant_menu", args=[merchant.pk]))
        try:
            if upload.size is not None and upload.size > MAX_FILE_BYTES:
                raise SheetError(_("The file is larger than 5 MB."))
            sheet = read_sheet(upload.read(), upload.name or "")
        except SheetError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(reverse("admin:merchants_merchant_menu", args=[merchant.pk]))
        preview = services_menu.preview_menu_sheet(merchant_id=merchant.pk, sheet=sheet, missing=missing)
        token = signing.dumps(
            {
                "merchant": merchant.pk,
                "user": request.user.pk,
                "missing": missing.value,
                "fingerprint": preview.fingerprint,
                "columns": sorted(sheet.columns),
                "ignored": sheet.ignored_columns,
                "rows": [[row.number, row.cells] for row in sheet.rows],
            },
            salt=SIGNING_SALT,
            compress=True,
        )
        groups = [
            {"label": label, "changes": [c for c in preview.plan.changes if c.action == action]}
            for action, label in ACTION_LABELS.items()
        ]
        context = self._context(
            request,
            merchant,
            title=_("Preview of the menu import"),
            plan=preview.plan,
            groups=[group for group in groups if group["changes"]],
            token=token,
            filename=upload.name,
            missing_label=dict(MISSING_CHOICES)[missing],
        )
        status = 400 if preview.plan.errors else 200
        return TemplateResponse(request, "admin/merchants/merchant/menu_preview.html", context, status=status)

    def _apply(self, request: HttpRequest, merchant: Merchant) -> HttpResponse:
        back = HttpResponseRedirect(reverse("admin:merchants_merchant_menu", args=[merchant.pk]))
        try:
            payload = signing.loads(request.POST["token"], salt=SIGNING_SALT, max_age=PREVIEW_MAX_AGE_SECONDS)
        except signing.BadSignature:
            messages.error(request, _("This preview has expired or is not valid: upload the sheet again."))
            return back
        if payload["merchant"] != merchant.pk or payload["user"] != request.user.pk:
            raise PermissionDenied
        sheet = Sheet(
            rows=[SheetRow(number=number, cells=cells) for number, cells in payload["rows"]],
            ignored_columns=payload["ignored"],
            columns=frozenset(payload["columns"]),
        )
        try:
            plan = services_menu.apply_menu_sheet(
                merchant_id=merchant.pk,
                sheet=sheet,
                missing=Missing(payload["missing"]),
                fingerprint=payload["fingerprint"],
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return back
        if plan.has_changes:
            counts = plan.counts()
            messages.success(
                request,
                _("Menu updated: %(created)s new, %(changed)s changed, %(removed)s removed or sold out.")
                % {
                    "created": counts.get(Action.CREATE, 0),
                    "changed": counts.get(Action.CHANGE, 0) + counts.get(Action.REORDER, 0),
                    "removed": counts.get(Action.DELETE, 0) + counts.get(Action.HIDE, 0),
                },
            )
        else:
            messages.info(request, _("The sheet matches the menu: nothing to change."))
        return back

    def reorder(self, request: HttpRequest, merchant_id: int) -> HttpResponse:
        merchant = self._merchant(request, merchant_id, manage=True)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:merchants_merchant_menu", args=[merchant.pk]))
        try:
            try:
                body = json.loads(request.body)
                categories = [int(pk) for pk in body.get("categories", [])]
                items = [int(pk) for pk in body.get("items", [])]
            except (ValueError, TypeError, AttributeError):
                raise CommonErrors.MALFORMED() from None
            services_menu.reorder_menu(merchant_id=merchant.pk, category_ids=categories, item_ids=items)
        except ApplicationError as error:
            return JsonResponse(error_body(error), status=error.status)
        return JsonResponse({"saved": True, "message": str(_("Order saved."))})
