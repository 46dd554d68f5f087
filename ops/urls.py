from django.contrib import admin
from django.urls import URLPattern, path

from ops import statements, views

app_name = "ops"

urlpatterns: list[URLPattern] = [
    path("dashboard/", admin.site.admin_view(views.ops_dashboard), name="dashboard"),
    path("orders/<int:order_id>/action", admin.site.admin_view(views.order_action), name="order-action"),
    path("merchant/", admin.site.admin_view(views.merchant_dashboard), name="merchant-dashboard"),
    path(
        "merchant/statement/",
        admin.site.admin_view(statements.merchant_statement_page),
        name="merchant-statement",
    ),
]
