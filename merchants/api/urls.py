from django.urls import URLPattern, URLResolver, path

from merchants.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("merchants", views.NearbyMerchantsApi.as_view(), name="merchant-nearby"),
    path("merchants/<int:pk>", views.MerchantDetailApi.as_view(), name="merchant-detail"),
    path(
        "merchants/<int:pk>/delivery-preview",
        views.DeliveryPreviewApi.as_view(),
        name="merchant-delivery-preview",
    ),
    path("favourites/merchants", views.FavouriteMerchantListApi.as_view(), name="favourite-merchant-list"),
    path("favourites/merchants/<int:pk>", views.FavouriteMerchantApi.as_view(), name="favourite-merchant"),
    path("favourites/dishes", views.FavouriteDishListApi.as_view(), name="favourite-dish-list"),
    path("favourites/dishes/<int:pk>", views.FavouriteDishApi.as_view(), name="favourite-dish"),
    path("merchant/merchants", views.MyMerchantsApi.as_view(), name="merchant-mine"),
    path("merchant/merchants/<int:pk>/busy", views.MerchantBusyApi.as_view(), name="merchant-busy"),
    path("merchant/merchants/<int:pk>/hours", views.MerchantHoursApi.as_view(), name="merchant-hours"),
    path(
        "merchant/items/<int:pk>/availability",
        views.ItemAvailabilityApi.as_view(),
        name="menu-item-availability",
    ),
    path(
        "merchant/options/<int:pk>/availability",
        views.OptionAvailabilityApi.as_view(),
        name="option-availability",
    ),
]
