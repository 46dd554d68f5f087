"""Stable codes of every refusal the orders app gives, in Vietnamese and English."""

from loship.errors import ErrorSpec
from loship.i18n import Text


class CartErrors:
    MERCHANT_NOT_FOUND = ErrorSpec(
        "merchant_not_found", 404, Text(vi="Không tìm thấy cửa hàng.", en="The merchant does not exist.")
    )
    MERCHANT_CLOSED = ErrorSpec(
        "merchant_closed", 409, Text(vi="Cửa hàng đang đóng cửa.", en="The merchant is closed right now.")
    )
    MERCHANT_BUSY = ErrorSpec(
        "merchant_busy",
        409,
        Text(vi="Cửa hàng đang quá tải, vui lòng thử lại sau.", en="The merchant is busy; try again later."),
    )
    OUTSIDE_DELIVERY_RADIUS = ErrorSpec(
        "outside_delivery_radius",
        422,
        Text(vi="Địa chỉ nằm ngoài phạm vi giao hàng.", en="The address is outside the delivery radius."),
    )
    ITEM_UNAVAILABLE = ErrorSpec(
        "item_unavailable", 422, Text(vi="Món {name} hiện không có.", en="{name} is not available.")
    )
    OPTION_UNAVAILABLE = ErrorSpec(
        "option_unavailable",
        422,
        Text(vi="Tùy chọn {name} hiện không có.", en="The option {name} is not available."),
    )
    OPTION_REQUIRED = ErrorSpec(
        "option_group_required",
        422,
        Text(vi="Vui lòng chọn {group} cho món {item}.", en="Choose {group} for {item}."),
    )
    TOO_MANY_OPTIONS = ErrorSpec(
        "too_many_options",
        422,
        Text(vi="Chỉ được chọn tối đa {max} cho {group}.", en="Choose at most {max} for {group}."),
    )
    TOO_FEW_OPTIONS = ErrorSpec(
        "too_few_options",
        422,
        Text(vi="Cần chọn ít nhất {min} cho {group}.", en="Choose at least {min} for {group}."),
    )
    EMPTY_CART = ErrorSpec("cart_empty", 400, Text(vi="Giỏ hàng trống.", en="The cart is empty."))


class ScheduleErrors:
    SLOT_NOT_ON_STEP = ErrorSpec(
        "slot_not_on_step",
        400,
        Text(
            vi="Giờ giao phải là mốc 15 phút (ví dụ 18:00, 18:15).",
            en="The delivery slot must be on a quarter hour (18:00, 18:15, ...).",
        ),
    )
    SLOT_TOO_SOON = ErrorSpec(
        "slot_too_soon",
        422,
        Text(
            vi="Giờ giao quá gần, cửa hàng không kịp chuẩn bị. Chọn giờ muộn hơn hoặc đặt giao ngay.",
            en="The slot is too soon for the merchant to prepare it; pick a later one or order now.",
        ),
    )
    SLOT_TOO_FAR = ErrorSpec(
        "slot_too_far",
        422,
        Text(vi="Chỉ đặt trước được tối đa {days} ngày.", en="A slot can be at most {days} days ahead."),
    )
    SLOT_OUTSIDE_HOURS = ErrorSpec(
        "slot_outside_opening_hours",
        422,
        Text(
            vi="Cửa hàng không mở cửa để chuẩn bị đơn cho giờ giao này.",
            en="The merchant is not open to prepare an order for this slot.",
        ),
    )


class PromoErrors:
    INVALID = ErrorSpec(
        "promo_invalid", 422, Text(vi="Mã khuyến mãi không hợp lệ.", en="This promo code is not valid.")
    )
    EXPIRED = ErrorSpec(
        "promo_expired", 422, Text(vi="Mã khuyến mãi đã hết hạn.", en="This promo code has expired.")
    )
    NOT_STARTED = ErrorSpec(
        "promo_not_started",
        422,
        Text(vi="Mã khuyến mãi chưa bắt đầu.", en="This promo code is not active yet."),
    )
    MIN_SUBTOTAL_NOT_MET = ErrorSpec(
        "promo_min_subtotal_not_met",
        422,
        Text(
            vi="Đơn hàng cần tối thiểu {min_subtotal_vnd}đ để dùng mã này.",
            en="This promo code needs a subtotal of at least {min_subtotal_vnd} VND.",
        ),
    )
    USED_UP = ErrorSpec(
        "promo_used_up", 422, Text(vi="Mã khuyến mãi đã hết lượt sử dụng.", en="This promo code is used up.")
    )
    CUSTOMER_LIMIT_REACHED = ErrorSpec(
        "promo_customer_limit_reached",
        422,
        Text(vi="Bạn đã dùng hết lượt của mã này.", en="You have already used this promo code."),
    )
    WRONG_MERCHANT = ErrorSpec(
        "promo_not_for_merchant",
        422,
        Text(vi="Mã khuyến mãi không áp dụng cho cửa hàng này.", en="This promo code is not valid here."),
    )


class OrderErrors:
    TRANSITION_NOT_ALLOWED = ErrorSpec(
        "order_transition_not_allowed",
        409,
        Text(
            vi="Không thể chuyển đơn từ {from_status} sang {to_status}.",
            en="The order cannot go from {from_status} to {to_status}.",
        ),
    )
    NOT_CANCELLABLE = ErrorSpec(
        "order_not_cancellable",
        409,
        Text(
            vi="Đơn hàng không thể hủy ở trạng thái hiện tại.",
            en="The order cannot be cancelled in its current state.",
        ),
    )
    AWAITING_PAYMENT = ErrorSpec(
        "order_awaiting_payment",
        409,
        Text(vi="Đơn hàng chưa được thanh toán.", en="The order has not been paid yet."),
    )
    DRIVER_ALREADY_ASSIGNED = ErrorSpec(
        "order_driver_already_assigned",
        409,
        Text(vi="Đơn hàng đã có tài xế khác.", en="Another driver is already assigned to this order."),
    )
    NOT_ASSIGNED_DRIVER = ErrorSpec(
        "order_not_assigned_to_driver",
        409,
        Text(vi="Bạn không phải tài xế của đơn này.", en="You are not the driver of this order."),
    )
    PREP_MINUTES_INVALID = ErrorSpec(
        "prep_minutes_invalid",
        400,
        Text(
            vi="Thời gian chuẩn bị phải từ 1 đến 180 phút.", en="Preparation time must be 1 to 180 minutes."
        ),
    )
    ALREADY_RATED = ErrorSpec(
        "order_already_rated", 409, Text(vi="Bạn đã đánh giá đơn này.", en="This order is already rated.")
    )
    NOT_RATEABLE = ErrorSpec(
        "order_not_rateable",
        409,
        Text(vi="Chỉ đánh giá được đơn đã giao.", en="Only delivered orders can be rated."),
    )
    NO_DRIVER_TO_RATE = ErrorSpec(
        "order_has_no_driver",
        400,
        Text(vi="Đơn này không có tài xế.", en="This order has no driver to rate."),
    )


class PaymentErrors:
    SIGNATURE_INVALID = ErrorSpec(
        "webhook_signature_invalid",
        401,
        Text(vi="Chữ ký webhook không hợp lệ.", en="The webhook signature is invalid."),
    )
    WEBHOOK_MALFORMED = ErrorSpec(
        "webhook_malformed", 400, Text(vi="Không đọc được webhook.", en="The webhook body is malformed.")
    )
    PAYMENT_NOT_FOUND = ErrorSpec(
        "payment_not_found", 404, Text(vi="Không tìm thấy giao dịch.", en="The payment does not exist.")
    )
    AMOUNT_MISMATCH = ErrorSpec(
        "payment_amount_mismatch",
        400,
        Text(vi="Số tiền thanh toán không khớp.", en="The paid amount does not match the order."),
    )
    GATEWAY_UNAVAILABLE = ErrorSpec(
        "payment_gateway_unavailable",
        503,
        Text(
            vi="Cổng thanh toán tạm thời không phản hồi. Vui lòng thử lại.",
            en="The payment gateway is not answering. Please retry.",
        ),
    )
    NOT_PAYABLE = ErrorSpec(
        "order_not_payable",
        409,
        Text(vi="Đơn hàng này không cần hoặc không thể thanh toán.", en="This order cannot be paid now."),
    )


class TipErrors:
    AMOUNT_OUT_OF_BOUNDS = ErrorSpec(
        "tip_amount_out_of_bounds",
        422,
        Text(
            vi="Tiền tip phải từ {min_vnd}đ đến {max_vnd}đ.",
            en="A tip must be between {min_vnd} and {max_vnd} VND.",
        ),
    )
    NOT_ALLOWED = ErrorSpec(
        "tip_not_allowed",
        409,
        Text(vi="Không thể tip cho đơn hàng này.", en="This order cannot take a tip."),
    )
    WINDOW_CLOSED = ErrorSpec(
        "tip_window_closed",
        409,
        Text(
            vi="Chỉ có thể tip trong vòng {hours} giờ sau khi giao hàng.",
            en="A tip can be given only within {hours} hours of delivery.",
        ),
    )
    ALREADY_GIVEN = ErrorSpec(
        "tip_already_given",
        409,
        Text(vi="Bạn đã tip cho đơn hàng này.", en="You have already tipped for this order."),
    )
    NOT_FOUND = ErrorSpec("tip_not_found", 404, Text(vi="Đơn hàng chưa có tip.", en="This order has no tip."))


class SettlementErrors:
    OPS_ONLY = ErrorSpec(
        "refund_ops_only",
        403,
        Text(vi="Chỉ bộ phận vận hành được hoàn tiền.", en="Only operations staff may refund an order."),
    )
    NOT_DELIVERED = ErrorSpec(
        "refund_order_not_delivered",
        409,
        Text(
            vi="Chỉ hoàn tiền sau giao hàng cho đơn đã giao.",
            en="Only a delivered order can be refunded after delivery.",
        ),
    )
    EXCEEDS_REFUNDABLE = ErrorSpec(
        "refund_exceeds_refundable",
        409,
        Text(
            vi="Số tiền hoàn phải từ 1đ đến {refundable_vnd}đ.",
            en="The refund must be between 1 and {refundable_vnd} VND.",
        ),
    )
    PERIOD_INVALID = ErrorSpec(
        "statement_period_invalid",
        400,
        Text(
            vi="Khoảng thời gian không hợp lệ (từ ngày phải trước đến ngày, tối đa 366 ngày).",
            en="The period is invalid (start on or before end, at most 366 days).",
        ),
    )
