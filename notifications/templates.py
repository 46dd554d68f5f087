"""Every notification's title and body, in Vietnamese and English; the user's language picks one."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from loship.i18n import Text

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True, slots=True)
class Template:
    title: Text
    body: Text


TEMPLATES: dict[str, Template] = {
    # To the customer
    "order.accepted": Template(
        Text(vi="Đơn {code} đã được nhận", en="Order {code} accepted"),
        Text(
            vi="{merchant} đang chuẩn bị món cho bạn, cam kết giao trước {promised}.",
            en="{merchant} is preparing your food; we promise it by {promised}.",
        ),
    ),
    "order.driver_assigned": Template(
        Text(vi="Đã có tài xế cho đơn {code}", en="A driver has order {code}"),
        Text(
            vi="Tài xế đang đến {merchant} lấy món, cam kết giao trước {promised}.",
            en="Your driver is on the way to {merchant}; we promise your food by {promised}.",
        ),
    ),
    "order.rejected": Template(
        Text(vi="Đơn {code} bị từ chối", en="Order {code} was declined"),
        Text(
            vi="{merchant} không thể nhận đơn của bạn. Nếu đã thanh toán, bạn sẽ được hoàn tiền.",
            en="{merchant} could not take your order. If you paid, you will be refunded.",
        ),
    ),
    "order.picked_up": Template(
        Text(vi="Tài xế đã lấy món", en="Your driver has your food"),
        Text(
            vi="Đơn {code} đang trên đường đến bạn, cam kết giao trước {promised}.",
            en="Order {code} is on its way to you, promised by {promised}.",
        ),
    ),
    "order.delivered": Template(
        Text(vi="Đơn {code} đã giao thành công", en="Order {code} delivered"),
        Text(
            vi="Chúc bạn ngon miệng! Hãy đánh giá {merchant} nhé.",
            en="Enjoy your meal! Rate {merchant} when you can.",
        ),
    ),
    "order.cancelled": Template(
        Text(vi="Đơn {code} đã bị huỷ", en="Order {code} was cancelled"),
        Text(
            vi="Đơn của bạn tại {merchant} đã bị huỷ. Nếu đã thanh toán, bạn sẽ được hoàn tiền.",
            en="Your order from {merchant} was cancelled. If you paid, you will be refunded.",
        ),
    ),
    "order.cancelled_timeout": Template(
        Text(vi="Đơn {code} đã tự động huỷ", en="Order {code} was cancelled automatically"),
        Text(
            vi="{merchant} không phản hồi kịp nên đơn đã được huỷ. Nếu đã thanh toán, bạn sẽ được hoàn tiền.",
            en="{merchant} did not answer in time, so the order was cancelled. "
            "If you paid, you will be refunded.",
        ),
    ),
    "order.delivery_failed": Template(
        Text(vi="Không giao được đơn {code}", en="Order {code} could not be delivered"),
        Text(
            vi="Tài xế không giao được đơn của bạn. Bộ phận hỗ trợ sẽ liên hệ bạn.",
            en="The driver could not deliver your order. Our support team will contact you.",
        ),
    ),
    # Order chat, to the side that is not connected (chat/notifications.py)
    "chat.from_driver": Template(
        Text(vi="Tài xế nhắn tin về đơn {code}", en="Your driver wrote about order {code}"),
        Text(vi="{text}", en="{text}"),
    ),
    "chat.from_customer": Template(
        Text(vi="Khách hàng nhắn tin về đơn {code}", en="The customer wrote about order {code}"),
        Text(vi="{text}", en="{text}"),
    ),
    # To the merchant's staff
    "merchant.new_order": Template(
        Text(vi="Đơn mới {code}", en="New order {code}"),
        Text(
            vi="{items} món, tổng {total}. Vui lòng xác nhận trong {minutes} phút.",
            en="{items} items, total {total}. Please accept within {minutes} minutes.",
        ),
    ),
    "merchant.new_scheduled_order": Template(
        Text(vi="Đơn đặt trước {code}", en="Scheduled order {code}"),
        Text(
            vi="{items} món, tổng {total}, giao lúc {slot}. Đơn sẽ được gửi để xác nhận trước giờ nấu.",
            en="{items} items, total {total}, to deliver at {slot}. It comes in to accept before cooking.",
        ),
    ),
    "merchant.order_cancelled": Template(
        Text(vi="Đơn {code} đã bị huỷ", en="Order {code} was cancelled"),
        Text(vi="Không cần chuẩn bị đơn {code} nữa.", en="No need to prepare order {code} any more."),
    ),
    "merchant.webhook_disabled": Template(
        Text(vi="Webhook đã bị tắt", en="A webhook was disabled"),
        Text(
            vi="Không gửi được tới {url} sau {failures} lần liên tiếp trong {hours} giờ nên webhook đã "
            "bị tắt. Hãy kiểm tra máy chủ nhận rồi bật lại.",
            en="Deliveries to {url} failed {failures} times in a row over {hours} hours, so the webhook "
            "was disabled. Check the receiving server, then enable it again.",
        ),
    ),
    # To a driver (the drivers app may call notify for offers)
    "driver.offer": Template(
        Text(vi="Có đơn giao mới", en="New delivery offer"),
        Text(
            vi="Lấy món tại {merchant}. Trả lời trong {seconds} giây.",
            en="Pick up at {merchant}. Answer within {seconds} seconds.",
        ),
    ),
    # To the ops team (ops/notify.py, on a headroom alert)
    "ops.headroom_alert": Template(
        Text(vi="Cảnh báo tải: {figure}", en="Load alert: {figure}"),
        Text(
            vi="Tải {load} đã vượt 40% giới hạn đo được ({limit}). Còn dư {headroom} lần.",
            en="Load {load} passed 40% of the measured limit ({limit}). Headroom {headroom}x.",
        ),
    ),
    # Marketing (muted by the `marketing` preference)
    "marketing.promotion": Template(
        Text(vi="{headline_vi}", en="{headline_en}"), Text(vi="{text_vi}", en="{text_en}")
    ),
}


def money(amount_vnd: int, language: str) -> str:
    """85000 -> '85.000 đ' (vi) or '85,000 VND' (en)."""
    grouped = f"{amount_vnd:,}"
    return grouped.replace(",", ".") + " đ" if language == "vi" else grouped + " VND"


def local_time(moment: datetime | str | None) -> str:
    """HH:MM in Ho Chi Minh City time, or '--:--' when unknown."""
    if moment is None:
        return "--:--"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M")


def local_day_and_time(moment: datetime | str) -> str:
    """HH:MM dd/mm in Ho Chi Minh City time (a scheduled order's slot may be days ahead)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m")


def render(kind: str, *, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of template `kind` in `language` ("vi" unless "en")."""
    language = "en" if language == "en" else "vi"
    template = TEMPLATES[kind]
    params = dict(context)
    if "total_vnd" in params:
        params["total"] = money(int(params["total_vnd"]), language)
    for moment in ("eta", "promised"):  # '--:--' when unknown (an order from before promises)
        params[moment] = local_time(params.get(moment))
    if params.get("slot"):
        params["slot"] = local_day_and_time(params["slot"])
    return template.title.render(language, **params), template.body.render(language, **params)
