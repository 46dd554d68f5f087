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
    PHOTO_TOO_LARGE = ErrorSpec(
        "photo_too_large",
        400,
        Text(vi="Ảnh quá nặng: tối đa {max_mb} MB.", en="The photo is too large: {max_mb} MB at most."),
    )
    PHOTO_TYPE = ErrorSpec(
        "photo_type_not_accepted",
        400,
        Text(
            vi="Tệp này không phải ảnh JPEG, PNG hay WebP.",
            en="The file is not a JPEG, PNG or WebP image.",
        ),
    )
    PHOTO_UNREADABLE = ErrorSpec(
        "photo_unreadable",
        400,
        Text(
            vi="Không đọc được ảnh: tệp bị hỏng hoặc thiếu.",
            en="The photo cannot be read: the file is damaged or cut short.",
        ),
    )
    PHOTO_TOO_SMALL = ErrorSpec(
        "photo_too_small",
        400,
        Text(
            vi="Ảnh quá nhỏ ({width}×{height}): mỗi cạnh cần ít nhất {min_side} px.",
            en="The photo is too small ({width}×{height}): each side needs at least {min_side} px.",
        ),
    )
    PHOTO_TOO_MANY_PIXELS = ErrorSpec(
        "photo_too_many_pixels",
        400,
        Text(
            vi="Ảnh quá lớn: tối đa {max_side} px mỗi cạnh và {max_megapixels} megapixel.",
            en="The photo is too big: {max_side} px a side and {max_megapixels} megapixels at most.",
        ),
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
