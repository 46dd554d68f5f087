from django.urls import path

from users.api import views

urlpatterns = [
    path("auth/register", views.RegisterApi.as_view(), name="auth-register"),
    path("auth/login", views.LoginApi.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshApi.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutApi.as_view(), name="auth-logout"),
    path("me", views.MeApi.as_view(), name="me"),
    path("me/password", views.PasswordChangeApi.as_view(), name="me-password"),
    path("me/addresses", views.AddressListApi.as_view(), name="address-list"),
    path("me/addresses/<int:pk>", views.AddressDetailApi.as_view(), name="address-detail"),
    path("me/devices", views.DeviceListApi.as_view(), name="device-list"),
    path("me/devices/<int:pk>", views.DeviceDetailApi.as_view(), name="device-detail"),
]
