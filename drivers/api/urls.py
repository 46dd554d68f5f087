from django.urls import URLPattern, URLResolver, path

from drivers.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("driver/profile", views.ProfileApi.as_view(), name="driver-profile"),
    path("driver/online", views.OnlineApi.as_view(), name="driver-online"),
    path("driver/offline", views.OfflineApi.as_view(), name="driver-offline"),
    path("driver/shift", views.ShiftApi.as_view(), name="driver-shift"),
    path("driver/current-job", views.CurrentJobApi.as_view(), name="driver-current-job"),
    path("driver/offers", views.OfferListApi.as_view(), name="driver-offers"),
    path("driver/offers/<int:offer_id>/accept", views.OfferAcceptApi.as_view(), name="driver-offer-accept"),
    path(
        "driver/offers/<int:offer_id>/decline", views.OfferDeclineApi.as_view(), name="driver-offer-decline"
    ),
    path("driver/jobs/<int:job_id>", views.JobDetailApi.as_view(), name="driver-job"),
    path("driver/jobs/<int:job_id>/steps", views.JobStepApi.as_view(), name="driver-job-step"),
    path("driver/orders/<int:order_id>", views.DriverOrderApi.as_view(), name="driver-order"),
    path("driver/earnings", views.EarningsApi.as_view(), name="driver-earnings"),
    path("driver/cash", views.CashApi.as_view(), name="driver-cash"),
    path("driver/cash/settlements", views.CashSettlementListApi.as_view(), name="driver-cash-settlements"),
    path("driver/cash/top-ups", views.CashTopUpApi.as_view(), name="driver-cash-top-ups"),
    path("driver/locations", views.LocationBatchApi.as_view(), name="driver-locations"),
    path(
        "ops/drivers/<int:driver_id>/cash-settlements",
        views.OpsHubSettlementApi.as_view(),
        name="ops-driver-cash-settlements",
    ),
    path("ops/dispatch/assign", views.OpsAssignApi.as_view(), name="ops-dispatch-assign"),
    path("ops/dispatch/unassign", views.OpsUnassignApi.as_view(), name="ops-dispatch-unassign"),
]
