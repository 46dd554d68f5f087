from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = _("Users")

    def ready(self) -> None:
        from users.authentication import forget_saved_user
        from users.models import User

        post_save.connect(forget_saved_user, sender=User, dispatch_uid="users-forget-cached-user")
        post_delete.connect(forget_saved_user, sender=User, dispatch_uid="users-forget-cached-user-deleted")
