from loship.errors import ErrorSpec
from loship.i18n import Text


class UserErrors:
    NOT_A_DRIVER = ErrorSpec(
        "not_a_driver", 403, Text(vi="Tài khoản này không phải tài xế.", en="This account is not a driver.")
    )
    PHONE_INVALID = ErrorSpec(
        "phone_invalid", 400, Text(vi="Số điện thoại không hợp lệ.", en="This is not a valid phone number.")
    )
    PHONE_TAKEN = ErrorSpec(
        "phone_taken",
        409,
        Text(vi="Số điện thoại này đã được đăng ký.", en="This phone number is already registered."),
    )
    PASSWORD_WEAK = ErrorSpec(
        "password_weak", 400, Text(vi="Mật khẩu quá yếu.", en="The password is too weak.")
    )
    PASSWORD_WRONG = ErrorSpec(
        "password_wrong", 400, Text(vi="Mật khẩu hiện tại không đúng.", en="The current password is wrong.")
    )
    INVALID_CREDENTIALS = ErrorSpec(
        "invalid_credentials",
        401,
        Text(vi="Sai số điện thoại hoặc mật khẩu.", en="Wrong phone number or password."),
    )
    ACCOUNT_DISABLED = ErrorSpec(
        "account_disabled", 403, Text(vi="Tài khoản đã bị khóa.", en="This account is disabled.")
    )
    ACCOUNT_LOCKED = ErrorSpec(
        "account_locked",
        423,
        Text(
            vi="Đăng nhập tạm khóa vì nhập sai mật khẩu nhiều lần. Thử lại sau {minutes} phút.",
            en="Login is locked after too many wrong passwords. Try again in {minutes} min.",
        ),
    )
