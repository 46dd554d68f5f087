from django.contrib import admin
from django.urls import URLPattern, path

from ops import answers, statements, views

app_name = "ops"

urlpatterns: list[URLPattern] = [
    path("dashboard/", admin.site.admin_view(views.ops_dashboard), name="dashboard"),
    path("orders/<int:order_id>/action", admin.site.admin_view(views.order_action), name="order-action"),
    path("merchant/", admin.site.admin_view(views.merchant_dashboard), name="merchant-dashboard"),
    path("merchant/orders/", admin.site.admin_view(views.merchant_orders), name="merchant-orders"),
    path(
        "merchant/orders/rows", admin.site.admin_view(views.merchant_order_rows), name="merchant-order-rows"
    ),
    path(
        "merchant/orders/<int:pk>/accept",
        admin.site.admin_view(answers.AcceptFromAdmin.as_view()),
        name="merchant-order-accept",
    ),
    path(
        "merchant/orders/<int:pk>/reject",
        admin.site.admin_view(answers.RejectFromAdmin.as_view()),
        name="merchant-order-reject",
    ),
    path(
        "merchant/orders/<int:pk>/ready",
        admin.site.admin_view(answers.ReadyFromAdmin.as_view()),
        name="merchant-order-ready",
    ),
    path(
        "merchant/statement/",
        admin.site.admin_view(statements.merchant_statement_page),
        name="merchant-statement",
    ),
]
