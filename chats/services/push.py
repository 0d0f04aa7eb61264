"""Browsers' Web Push subscriptions (the sending is `chats.push`)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import Http404

from chats.models import PushSubscription


def push_subscription_save(*, user: User, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Register a browser for `user`. The endpoint identifies the browser: subscribing again
    refreshes its keys, and a browser someone else subscribed before now notifies `user`."""
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth}
    )
    return subscription


def push_subscription_delete(*, user: User, endpoint: str) -> None:
    """Forget a browser (the user turned notifications off). 404 if it is not theirs."""
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    if not deleted:
        raise Http404("No such push subscription.")
