from django.urls import URLPattern, URLResolver, path

from orders.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/quote", views.QuoteApi.as_view(), name="order-quote"),
    path("orders", views.OrderListApi.as_view(), name="order-list"),
    path("orders/<int:pk>", views.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:pk>/cancel", views.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<int:pk>/payment", views.OrderPaymentApi.as_view(), name="order-payment"),
    path("orders/<int:pk>/tip", views.OrderTipApi.as_view(), name="order-tip"),
    path("orders/<int:pk>/reorder", views.ReorderApi.as_view(), name="order-reorder"),
    path("orders/<int:pk>/rating", views.OrderRatingApi.as_view(), name="order-rating"),
    path("merchant/orders", views.MerchantOrderListApi.as_view(), name="merchant-order-list"),
    path(
        "merchant/orders/upcoming", views.MerchantUpcomingOrdersApi.as_view(), name="merchant-order-upcoming"
    ),
    path(
        "merchant/merchants/<int:pk>/statement",
        views.MerchantStatementApi.as_view(),
        name="merchant-statement",
    ),
    path("merchant/orders/<int:pk>", views.MerchantOrderDetailApi.as_view(), name="merchant-order-detail"),
    path("merchant/orders/<int:pk>/accept", views.MerchantAcceptApi.as_view(), name="merchant-order-accept"),
    path("merchant/orders/<int:pk>/reject", views.MerchantRejectApi.as_view(), name="merchant-order-reject"),
    path(
        "merchant/orders/<int:pk>/preparing",
        views.MerchantPreparingApi.as_view(),
        name="merchant-order-preparing",
    ),
    path("merchant/orders/<int:pk>/ready", views.MerchantReadyApi.as_view(), name="merchant-order-ready"),
    path("merchant/orders/<int:pk>/cancel", views.MerchantCancelApi.as_view(), name="merchant-order-cancel"),
    path("ops/orders", views.OpsOrderListApi.as_view(), name="ops-order-list"),
    path("ops/orders/<int:pk>", views.OpsOrderDetailApi.as_view(), name="ops-order-detail"),
    path("ops/orders/<int:pk>/cancel", views.OpsOrderCancelApi.as_view(), name="ops-order-cancel"),
    path(
        "ops/orders/<int:pk>/refund-after-delivery",
        views.OpsRefundAfterDeliveryApi.as_view(),
        name="ops-order-refund-after-delivery",
    ),
    path(
        "ops/orders/<int:pk>/delivery-failed",
        views.OpsDeliveryFailedApi.as_view(),
        name="ops-order-delivery-failed",
    ),
    path("payments/sandbox/webhook", views.SandboxWebhookApi.as_view(), name="payment-webhook-sandbox"),
    path("payments/momo/ipn", views.MomoIpnApi.as_view(), name="payment-ipn-momo"),
]
