"""Stable codes of every refusal the merchants app gives, in Vietnamese and English."""

from loship.errors import ErrorSpec
from loship.i18n import Text


class MerchantErrors:
    MERCHANT_NOT_FOUND = ErrorSpec(
        "merchant_not_found", 404, Text(vi="Không tìm thấy cửa hàng.", en="The merchant does not exist.")
    )
    ITEM_NOT_FOUND = ErrorSpec(
        "menu_item_not_found", 404, Text(vi="Không tìm thấy món.", en="The menu item does not exist.")
    )
    OPTION_NOT_FOUND = ErrorSpec(
        "option_not_found", 404, Text(vi="Không tìm thấy lựa chọn.", en="The option does not exist.")
    )
    ROLE_REQUIRED = ErrorSpec(
        "merchant_role_required",
        403,
        Text(
            vi="Chỉ chủ quán hoặc quản lý mới được làm việc này.",
            en="Only the merchant's owner or a manager may do this.",
        ),
    )
    HOURS_OVERLAP = ErrorSpec(
        "opening_hours_overlap",
        400,
        Text(vi="Các khung giờ mở cửa bị chồng lên nhau.", en="The opening intervals overlap."),
    )
