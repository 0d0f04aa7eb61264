"""Cost and usage-limit endpoints (API.md §7): validate, call a selector or service, serialise.

`CostSummaryApi.chat_titles` is given by the URLconf that knows the chats app (config/urls.py),
because costs must not import chats; without it, `chat_title` is null.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import APIError
from costs import selectors, services
from costs.serializers import (
    LimitAdminSerializer,
    LimitConfigSerializer,
    OverrideSerializer,
    SummaryQuerySerializer,
    SummarySerializer,
    UsageStatusSerializer,
    UsersQuerySerializer,
    UsersSerializer,
)


def _valid(serializer_class: Any, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _me(request: Request) -> User:
    return cast(User, request.user)


def no_titles(chat_ids: Iterable[uuid.UUID]) -> Mapping[uuid.UUID, str]:
    return {}


class CostSummaryApi(APIView):
    chat_titles: selectors.ChatTitles = staticmethod(no_titles)

    @extend_schema(parameters=[SummaryQuerySerializer], responses=SummarySerializer)
    def get(self, request: Request) -> Response:
        query = _valid(SummaryQuerySerializer, request.query_params)
        me = _me(request)
        user_id = query.get("user", me.pk)
        if user_id != me.pk:
            if not me.is_staff:
                raise APIError("Only staff may see another user's costs.", code="permission_denied", status_code=403)
            get_object_or_404(get_user_model(), pk=user_id)
        summary = selectors.cost_summary(
            user_id=user_id, start=query["start"], end=query["end"], chat_titles=self.chat_titles
        )
        return Response(SummarySerializer(summary).data)


class CostUsersApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(parameters=[UsersQuerySerializer], responses=UsersSerializer)
    def get(self, request: Request) -> Response:
        rollup = selectors.user_rollup(**_valid(UsersQuerySerializer, request.query_params))
        return Response(UsersSerializer(rollup).data)


class UsageStatusApi(APIView):
    @extend_schema(responses=UsageStatusSerializer)
    def get(self, request: Request) -> Response:
        return Response(UsageStatusSerializer(selectors.usage_status(user_id=_me(request).pk)).data)


class LimitConfigApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses=LimitAdminSerializer)
    def get(self, request: Request) -> Response:
        return Response(LimitAdminSerializer(selectors.limit_settings()).data)

    @extend_schema(request=LimitConfigSerializer, responses=LimitAdminSerializer)
    def put(self, request: Request) -> Response:
        services.limit_config_update(**_valid(LimitConfigSerializer, request.data))
        return Response(LimitAdminSerializer(selectors.limit_settings()).data)


class UserLimitApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=OverrideSerializer, responses=OverrideSerializer)
    def put(self, request: Request, user_id: int) -> Response:
        user = get_object_or_404(get_user_model(), pk=user_id)
        override = services.user_limit_set(user_id=user.pk, **_valid(OverrideSerializer, request.data))
        return Response(OverrideSerializer(override).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, user_id: int) -> Response:
        if not services.user_limit_delete(user_id=user_id):
            raise APIError("This user has no limit override.", code="not_found", status_code=404)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupLimitApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=OverrideSerializer, responses=OverrideSerializer)
    def put(self, request: Request, group_id: int) -> Response:
        group = get_object_or_404(Group, pk=group_id)
        override = services.group_limit_set(group_id=group.pk, **_valid(OverrideSerializer, request.data))
        return Response(OverrideSerializer(override).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, group_id: int) -> Response:
        if not services.group_limit_delete(group_id=group_id):
            raise APIError("This group has no limit override.", code="not_found", status_code=404)
        return Response(status=status.HTTP_204_NO_CONTENT)
