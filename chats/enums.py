from django.db import models


class ChatStatus(models.TextChoices):
    WAITING = "waiting"
    PENDING = "pending"
    RUNNING = "running"
    ERROR = "error"


BUSY_STATUSES = (ChatStatus.PENDING, ChatStatus.RUNNING)


class Role(models.TextChoices):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class Visibility(models.TextChoices):
    USER = "user"  # shown to the user only (e.g. the visible compaction marker)
    MODEL = "model"  # sent to the model only (system prompt, hidden summary)
    BOTH = "both"


class BusyBehavior(models.TextChoices):
    QUEUE = "queue"
    INTERRUPT = "interrupt"


class ChatMode(models.TextChoices):
    COMPUTER_USE = "computer_use"
