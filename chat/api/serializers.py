"""The order chat's inputs and outputs. Nothing here carries a phone number, a sender's id or name:
a message says which side sent it."""

from rest_framework import serializers

from chat.models import ChatRole
from users.api.serializers import StrictSerializer


class SendInputSerializer(StrictSerializer):
    # The length and emptiness rules are the service's (chat_message_empty, chat_message_too_long).
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=20_000)


class ReadInputSerializer(StrictSerializer):
    seq = serializers.IntegerField(min_value=0, help_text="Every message up to this `seq` has been read.")


class MessageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="1, 2, 3... in the order's chat; a gap means a missed message.")
    sender_role = serializers.ChoiceField(choices=ChatRole.choices)
    body = serializers.CharField(help_text="The text, phone numbers masked with `*`.")
    masked = serializers.BooleanField(help_text="Whether a phone number was masked in it.")
    sent_at = serializers.DateTimeField()
    read = serializers.BooleanField(help_text="Whether the other side has read it.")


class MessageCursorPageSerializer(serializers.Serializer):
    """A cursor page of the chat's messages, newest first."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MessageOutputSerializer(many=True)


class ChatOutputSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=ChatRole.choices, help_text="The caller's side.")
    open = serializers.BooleanField(help_text="Whether the chat takes messages now.")
    read_only_at = serializers.DateTimeField(
        allow_null=True, help_text="When the chat stops taking messages (an hour after the order ended)."
    )
    last_seq = serializers.IntegerField()
    read_seq = serializers.IntegerField(help_text="The caller has read every message up to this one.")
    other_read_seq = serializers.IntegerField(
        help_text="The other side has read every message up to this one."
    )
    unread = serializers.IntegerField(help_text="The other side's messages the caller has not read.")
