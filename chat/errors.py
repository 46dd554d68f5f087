"""Stable codes of every refusal the order chat gives, in Vietnamese and English."""

from loship.errors import ErrorSpec
from loship.i18n import Text


class ChatErrors:
    NOT_OPEN = ErrorSpec(
        "chat_not_open",
        409,
        Text(
            vi="Chỉ có thể nhắn tin khi đơn đã có tài xế nhận.",
            en="The chat opens once a driver has the order.",
        ),
    )
    READ_ONLY = ErrorSpec(
        "chat_read_only",
        409,
        Text(
            vi="Cuộc trò chuyện của đơn này đã đóng.",
            en="This order's chat has closed; it can be read but not written to.",
        ),
    )
    MESSAGE_EMPTY = ErrorSpec(
        "chat_message_empty", 400, Text(vi="Tin nhắn trống.", en="The message is empty.")
    )
    MESSAGE_TOO_LONG = ErrorSpec(
        "chat_message_too_long",
        400,
        Text(
            vi="Tin nhắn dài quá {max_length} ký tự.",
            en="The message is longer than {max_length} characters.",
        ),
    )
    RATE_LIMITED = ErrorSpec(
        "chat_rate_limited",
        429,
        Text(
            vi="Bạn gửi tin nhắn quá nhanh. Thử lại sau {retry_after} giây.",
            en="You are sending messages too fast. Try again in {retry_after} seconds.",
        ),
    )
    READ_SEQ_INVALID = ErrorSpec(
        "chat_read_seq_invalid",
        400,
        Text(
            vi="Tin nhắn số {seq} không có trong cuộc trò chuyện.",
            en="There is no message number {seq} in this chat.",
        ),
    )
