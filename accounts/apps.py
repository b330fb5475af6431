from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts import sockets, tokens  # noqa: F401  (signal handlers)
