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
    MENU_CHANGED_SINCE_PREVIEW = ErrorSpec(
        "menu_changed_since_preview",
        409,
        Text(
            vi="Thực đơn đã thay đổi sau khi xem trước: hãy tải tệp lên và xem trước lại.",
            en="The menu changed since the preview: upload the sheet and preview it again.",
        ),
    )
    MENU_SHEET_INVALID = ErrorSpec(
        "menu_sheet_invalid",
        400,
        Text(
            vi="Tệp thực đơn có dòng lỗi; không có gì được thay đổi.",
            en="The menu sheet has errors; nothing changed.",
        ),
    )
    MENU_ORDER_INVALID = ErrorSpec(
        "menu_order_invalid",
        400,
        Text(
            vi="Thứ tự gửi lên không khớp với thực đơn của cửa hàng.",
            en="The order sent does not match the merchant's menu.",
        ),
    )
