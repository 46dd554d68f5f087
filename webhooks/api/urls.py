from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("merchant/merchants/<int:pk>/webhooks", views.EndpointListApi.as_view(), name="webhook-list"),
    path("merchant/webhooks/<int:pk>", views.EndpointApi.as_view(), name="webhook-detail"),
    path("merchant/webhooks/<int:pk>/roll-secret", views.RollSecretApi.as_view(), name="webhook-roll-secret"),
    path("merchant/webhooks/<int:pk>/deliveries", views.DeliveryListApi.as_view(), name="webhook-deliveries"),
    path(
        "merchant/webhook-deliveries/<int:pk>/redeliver",
        views.RedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
]
