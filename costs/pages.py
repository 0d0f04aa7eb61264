"""The browser page of one's own spend (API.md §11 `/costs/`), from the same selectors as the API."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from costs import selectors
from costs.models import Period
from costs.periods import period_bounds


@login_required
def spend(request: HttpRequest, chat_titles: selectors.ChatTitles) -> HttpResponse:
    period = request.GET.get("period", Period.MONTH)
    if period not in Period.values:
        period = Period.MONTH
    start, end = period_bounds(period, timezone.now())
    summary = selectors.cost_summary(user_id=cast(User, request.user).pk, start=start, end=end, chat_titles=chat_titles)
    return render(request, "costs/spend.html", {"summary": summary, "period": period, "periods": Period.choices})
