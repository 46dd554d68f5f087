"""Stable codes of every refusal the drivers app gives, in Vietnamese and English."""

from loship.errors import ErrorSpec
from loship.i18n import Text


class DriverErrors:
    OFFLINE = ErrorSpec(
        "driver_offline", 409, Text(vi="Bạn đang ngoại tuyến.", en="You are offline; go online first.")
    )
    HAS_ACTIVE_JOB = ErrorSpec(
        "driver_has_active_job",
        409,
        Text(vi="Bạn đang có chuyến chưa hoàn thành.", en="You already have a delivery in progress."),
    )
    SHIFT_END_INVALID = ErrorSpec(
        "shift_end_invalid",
        400,
        Text(
            vi="Giờ kết thúc ca phải trong vòng 16 giờ tới.",
            en="The shift end must be within the next 16 hours.",
        ),
    )


class OfferErrors:
    NOT_FOUND = ErrorSpec("offer_not_found", 404, Text(vi="Không tìm thấy lời mời.", en="No such offer."))
    EXPIRED = ErrorSpec("offer_expired", 409, Text(vi="Lời mời đã hết hạn.", en="The offer has expired."))
    NOT_OPEN = ErrorSpec(
        "offer_not_open",
        409,
        Text(vi="Lời mời không còn hiệu lực ({status}).", en="The offer is no longer open ({status})."),
    )
    TAKEN = ErrorSpec(
        "offer_order_taken",
        409,
        Text(vi="Đơn hàng đã có tài xế khác nhận.", en="Another driver already took this order."),
    )


class JobErrors:
    NOT_FOUND = ErrorSpec("job_not_found", 404, Text(vi="Không tìm thấy chuyến.", en="No such job."))
    TRANSITION_NOT_ALLOWED = ErrorSpec(
        "job_transition_not_allowed",
        409,
        Text(
            vi="Không thể chuyển chuyến từ {from_state} sang {to_state}.",
            en="The job cannot go from {from_state} to {to_state}.",
        ),
    )
    DELIVERY_CODE_WRONG = ErrorSpec(
        "delivery_code_wrong",
        422,
        Text(vi="Mã giao hàng không đúng.", en="The delivery code is wrong."),
    )
    CASH_MISMATCH = ErrorSpec(
        "cash_amount_mismatch",
        422,
        Text(
            vi="Số tiền mặt thu phải bằng {expected} đồng.",
            en="The cash collected must be {expected} VND.",
        ),
    )
    ORDER_NOT_DISPATCHABLE = ErrorSpec(
        "order_not_dispatchable",
        409,
        Text(vi="Đơn hàng không chờ tài xế.", en="The order is not waiting for a driver."),
    )


class LocationErrors:
    COORDINATES_INVALID = ErrorSpec(
        "location_coordinates_invalid",
        400,
        Text(vi="Tọa độ không hợp lệ.", en="The coordinates are invalid."),
    )
    TOO_MANY_FIXES = ErrorSpec(
        "location_batch_too_large",
        400,
        Text(vi="Gửi tối đa {max} vị trí mỗi lần.", en="Send at most {max} fixes at a time."),
    )


class CashErrors:
    AMOUNT_INVALID = ErrorSpec(
        "settlement_amount_invalid",
        422,
        Text(vi="Số tiền phải là số đồng dương.", en="The amount must be a positive whole number of dong."),
    )
    EXCEEDS_BALANCE = ErrorSpec(
        "settlement_exceeds_balance",
        409,
        Text(
            vi="Số tiền vượt quá số tiền mặt tài xế đang nợ ({balance_vnd}đ).",
            en="The amount is more than the cash the driver owes ({balance_vnd} VND).",
        ),
    )
    OVER_CASH_LIMIT = ErrorSpec(
        "driver_over_cash_limit",
        409,
        Text(
            vi="Tài xế đang giữ quá {limit_vnd}đ tiền mặt; cần nộp tiền trước khi nhận đơn tiền mặt.",
            en="The driver holds more than {limit_vnd} VND of cash; they must settle before cash orders.",
        ),
    )
