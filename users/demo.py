"""Demo users of every role, with known passwords (printed by `make run`)."""

import os
from collections.abc import Callable

from users.models import Role, User
from users.phone import normalize_phone

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "loship-demo-2026")

DEMO_USERS = [
    ("0900000001", "Vận hành Demo", [Role.OPS], True),
    ("0900000002", "Nguyễn Văn Khách", [Role.CUSTOMER], False),
    ("0900000003", "Trần Văn Tài Xế", [Role.DRIVER], False),
    ("0900000004", "Lê Thị Chủ Quán", [Role.MERCHANT_STAFF], True),
]


def seed(log: Callable[[str], object]) -> None:
    for phone, name, roles, is_staff in DEMO_USERS:
        user = User.objects.filter(phone=normalize_phone(phone)).first()
        if user is None:
            user = User.objects.create_user(
                phone, DEMO_PASSWORD, full_name=name, roles=roles, is_staff=is_staff
            )
            if Role.OPS in roles:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
            log(f"demo user {user.phone} ({', '.join(roles)}) created")
