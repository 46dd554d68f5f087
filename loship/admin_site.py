"""The admin as Loship's: its titles (login page included) and the project's admin pages' chrome.

`LoshipAdminConfig` (in INSTALLED_APPS instead of `django.contrib.admin`) makes this the default site,
so `admin.site` and every `@admin.register` use it.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class LoshipAdminSite(admin.AdminSite):
    site_header = _("Loship administration")
    site_title = _("Loship admin")
    index_title = _("Loship: merchants, orders and the city")


class LoshipAdminConfig(AdminConfig):
    default_site = "loship.admin_site.LoshipAdminSite"
