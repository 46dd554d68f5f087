"""Stable codes of every refusal the partner webhooks give, in Vietnamese and English. The codes of
`targets.TargetRefused` are among them."""

from loship.errors import ErrorSpec
from loship.i18n import Text


class WebhookErrors:
    ENDPOINT_NOT_FOUND = ErrorSpec(
        "webhook_not_found",
        404,
        Text(vi="Không tìm thấy webhook.", en="The webhook endpoint does not exist."),
    )
    DELIVERY_NOT_FOUND = ErrorSpec(
        "webhook_delivery_not_found",
        404,
        Text(vi="Không tìm thấy lần gửi.", en="The delivery does not exist."),
    )
    ENDPOINT_DISABLED = ErrorSpec(
        "webhook_disabled",
        409,
        Text(
            vi="Webhook đang tắt; hãy bật lại trước khi gửi lại.",
            en="The webhook endpoint is disabled; enable it before redelivering.",
        ),
    )
    TOO_MANY = ErrorSpec(
        "webhook_limit_reached",
        409,
        Text(
            vi="Mỗi cửa hàng có tối đa {limit} webhook.",
            en="A merchant may have at most {limit} webhook endpoints.",
        ),
    )
    URL_INVALID = ErrorSpec(
        "webhook_url_invalid",
        400,
        Text(vi="Địa chỉ webhook không hợp lệ.", en="The webhook URL is not a valid http(s) URL."),
    )
    HTTPS_REQUIRED = ErrorSpec(
        "webhook_https_required", 400, Text(vi="Webhook phải dùng https.", en="Webhook URLs must use https.")
    )
    TARGET_REFUSED = ErrorSpec(
        "webhook_target_refused",
        400,
        Text(
            vi="Không thể gửi webhook tới địa chỉ nội bộ hoặc riêng tư.",
            en="Webhooks cannot be sent to private, loopback or link-local addresses.",
        ),
    )
    HOST_UNRESOLVABLE = ErrorSpec(
        "webhook_host_unresolvable",
        400,
        Text(vi="Không tìm thấy máy chủ của webhook.", en="The webhook URL's host does not resolve."),
    )

    BY_TARGET_CODE = {
        spec.code: spec for spec in (URL_INVALID, HTTPS_REQUIRED, TARGET_REFUSED, HOST_UNRESOLVABLE)
    }
