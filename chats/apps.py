from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chats"

    def ready(self) -> None:
        from config import vapid

        vapid.private_key()  # a bad CHATD_VAPID_PRIVATE_KEY fails at start-up, not at the first push
