"""factory-boy factories for the models every app's tests need."""

from decimal import Decimal

import factory

from users.models import Address, Device, Platform, Role, User

DEFAULT_PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"+8490{n:07d}")
    full_name = factory.Faker("name", locale="vi_VN")
    roles = factory.LazyFunction(lambda: [Role.CUSTOMER])
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save(update_fields=["password"])


class AddressFactory(factory.django.DjangoModelFactory[Address]):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    label = "Nhà"
    text = "12 Nguyễn Huệ, Quận 1, TP.HCM"
    lat = Decimal("10.773600")
    lng = Decimal("106.703800")


class DeviceFactory(factory.django.DjangoModelFactory[Device]):
    class Meta:
        model = Device

    user = factory.SubFactory(UserFactory)
    platform = Platform.ANDROID
    token = factory.Sequence(lambda n: f"fcm-token-{n:06d}")
