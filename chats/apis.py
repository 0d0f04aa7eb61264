"""Chat endpoints (API.md §4): validate, call a service or selector, serialise."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.contrib.auth.models import User
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chats import push, selectors, services
from chats.attachments import IMAGE_TYPES, MAX_FILE_BYTES, TEXT_TYPES
from chats.errors import FileTooLarge
from chats.models import Chat, ChatFile
from chats.serializers import (
    ChatCreateSerializer,
    ChatFileSerializer,
    ChatSerializer,
    ChatUpdateSerializer,
    CustomPromptSerializer,
    DiffStatusSerializer,
    FileUploadSerializer,
    MessageEditSerializer,
    MessageListQuerySerializer,
    MessagePageSerializer,
    MessageSendSerializer,
    MessageSerializer,
    PushSubscriptionCreateSerializer,
    PushSubscriptionDeleteSerializer,
    PushSubscriptionSerializer,
    QueuedMessageSerializer,
    SendResultSerializer,
    VapidPublicKeySerializer,
    message_data,
    queued_message_data,
)
from costs import selectors as cost_selectors
from costs.serializers import ChatCostSerializer
from workspaces import git


def _me(request: Request) -> User:
    """The authenticated user (every view here requires authentication)."""
    return cast(User, request.user)


def _valid(serializer_class: Any, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ChatListCreateApi(ListAPIView[Chat]):
    serializer_class = ChatSerializer

    def get_queryset(self) -> Any:
        archived = self.request.query_params.get("archived")
        return selectors.chat_list(
            user=_me(self.request),
            archived=None if archived is None else archived.lower() in ("true", "1", "yes"),
            q=self.request.query_params.get("q", "").strip(),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("archived", OpenApiTypes.BOOL, description="Only archived (true) or live (false) chats."),
            OpenApiParameter("q", OpenApiTypes.STR, description="Case-insensitive title search."),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ChatCreateSerializer, responses={201: ChatSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(ChatCreateSerializer, request.data)
        chat = services.chat_create(owner=_me(request), **data)
        return Response(ChatSerializer(chat).data, status=status.HTTP_201_CREATED)


class ChatDetailApi(APIView):
    @extend_schema(responses=ChatSerializer)
    def get(self, request: Request, chat_id: str) -> Response:
        return Response(ChatSerializer(selectors.chat_get(user=_me(request), chat_id=chat_id)).data)

    @extend_schema(request=ChatUpdateSerializer, responses=ChatSerializer)
    def patch(self, request: Request, chat_id: str) -> Response:
        chat = selectors.chat_get(user=_me(request), chat_id=chat_id)
        chat = services.chat_update(chat=chat, **_valid(ChatUpdateSerializer, request.data))
        return Response(ChatSerializer(chat).data)

    @extend_schema(responses={204: None}, description="Archive the chat (soft delete) with its sub-agents.")
    def delete(self, request: Request, chat_id: str) -> Response:
        services.chat_update(chat=selectors.chat_get(user=_me(request), chat_id=chat_id), archived=True)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListSendApi(APIView):
    @extend_schema(parameters=[MessageListQuerySerializer], responses=MessagePageSerializer)
    def get(self, request: Request, chat_id: str) -> Response:
        chat = selectors.chat_get(user=_me(request), chat_id=chat_id)
        messages, has_more = selectors.message_page(
            chat=chat, **_valid(MessageListQuerySerializer, request.query_params)
        )
        return Response(
            {
                "messages": MessageSerializer(messages, many=True).data,
                "queued_messages": QueuedMessageSerializer(selectors.queued_messages(chat=chat), many=True).data,
                "has_more": has_more,
            }
        )

    @extend_schema(
        request=MessageSendSerializer,
        responses={201: SendResultSerializer, 202: SendResultSerializer},
        description="201 with the message when the chat is idle; 202 with the queued message when busy.",
    )
    def post(self, request: Request, chat_id: str) -> Response:
        chat = selectors.chat_get(user=_me(request), chat_id=chat_id)
        result = services.message_send(chat=chat, user=_me(request), **_valid(MessageSendSerializer, request.data))
        if result.queued_message is not None:
            body = {"queued": True, "queued_message": queued_message_data(result.queued_message)}
            return Response(body, status=status.HTTP_202_ACCEPTED)
        assert result.message is not None
        return Response({"queued": False, "message": message_data(result.message)}, status=201)


class MessageEditApi(APIView):
    @extend_schema(
        request=MessageEditSerializer,
        responses=MessageSerializer,
        description="Replace a user message: it and all later messages are soft-deleted, the queue is "
        "cleared and the chat runs again. 400 if the message is not a user message.",
    )
    def patch(self, request: Request, chat_id: str, message_id: int) -> Response:
        chat = selectors.chat_get(user=_me(request), chat_id=chat_id)
        data = _valid(MessageEditSerializer, request.data)
        message = services.message_edit(chat=chat, user=_me(request), message_id=message_id, **data)
        return Response(MessageSerializer(message).data)


class ChatInterruptApi(APIView):
    @extend_schema(request=None, responses=ChatSerializer, description="Stop the run; the partial answer is kept.")
    def post(self, request: Request, chat_id: str) -> Response:
        chat = services.chat_interrupt(chat=selectors.chat_get(user=_me(request), chat_id=chat_id))
        return Response(ChatSerializer(chat).data)


class QueuedMessageDeleteApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, chat_id: str, queued_id: int) -> Response:
        services.queued_delete(chat=selectors.chat_get(user=_me(request), chat_id=chat_id), queued_id=queued_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QueuedMessagePromoteApi(APIView):
    @extend_schema(request=None, responses=MessageSerializer, description="Send a queued message now.")
    def post(self, request: Request, chat_id: str, queued_id: int) -> Response:
        chat = selectors.chat_get(user=_me(request), chat_id=chat_id)
        return Response(MessageSerializer(services.queued_promote(chat=chat, queued_id=queued_id)).data)


class TitleRegenerateApi(APIView):
    @extend_schema(request=None, responses=ChatSerializer, description="Ask the model for a new title now.")
    def post(self, request: Request, chat_id: str) -> Response:
        chat = services.chat_regenerate_title(chat=selectors.chat_get(user=_me(request), chat_id=chat_id))
        return Response(ChatSerializer(chat).data)


class MyPromptApi(APIView):
    @extend_schema(responses=CustomPromptSerializer)
    def get(self, request: Request) -> Response:
        return Response({"custom_prompt": selectors.custom_prompt(user=_me(request))})

    @extend_schema(request=CustomPromptSerializer, responses=CustomPromptSerializer)
    def put(self, request: Request) -> Response:
        data = _valid(CustomPromptSerializer, request.data)
        return Response({"custom_prompt": services.custom_prompt_set(user=_me(request), **data)})


class ChatDiffApi(APIView):
    @extend_schema(
        responses=DiffStatusSerializer,
        description="Branch, changed files and the full diff of the chat's workspace (empty without one).",
    )
    def get(self, request: Request, chat_id: str) -> Response:
        chat = selectors.chat_get(user=_me(request), chat_id=chat_id)
        return Response(git.diff_status(chat.workspace) if chat.workspace else git.empty_status())


class ChatCostApi(APIView):
    @extend_schema(
        responses=ChatCostSerializer,
        description="What the chat's whole tree (the root chat and its sub-agents) has cost so far.",
    )
    def get(self, request: Request, chat_id: str) -> Response:
        chat = selectors.chat_get(user=_me(request), chat_id=chat_id)
        return Response(ChatCostSerializer(cost_selectors.chat_cost(root_chat_id=chat.root_chat_id)).data)


# Room for the multipart envelope around a file of the largest allowed size.
MULTIPART_OVERHEAD = 64 * 1024


class FileUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": FileUploadSerializer},
        responses={201: ChatFileSerializer, 400: OpenApiResponse(description="Refused type"), 413: None},
        description="Upload an attachment (multipart field `file`). Allowed: PNG, JPEG, GIF, WebP, plain "
        "text, Markdown, CSV, JSON, PDF, judged by the bytes; at most 10 MiB (413 beyond).",
    )
    def post(self, request: Request) -> Response:
        # Refuse an oversized body before it is parsed.
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_FILE_BYTES + MULTIPART_OVERHEAD:
            raise FileTooLarge(MAX_FILE_BYTES)
        upload = _valid(FileUploadSerializer, request.data)["file"]
        if upload.size > MAX_FILE_BYTES:
            raise FileTooLarge(MAX_FILE_BYTES)
        chat_file = services.file_create(
            owner=_me(request), data=upload.read(), name=upload.name or "", declared_type=upload.content_type or ""
        )
        return Response(ChatFileSerializer(chat_file).data, status=status.HTTP_201_CREATED)


class _AnyAccept(BaseContentNegotiation):
    """The bytes are what they are: an `<img>`'s Accept header must not turn them into a 406."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: Any = None) -> Any:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class FileDownloadApi(APIView):
    content_negotiation_class = _AnyAccept

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        description="The file's bytes, for its owner only. Immutable: cache forever.",
    )
    def get(self, request: Request, file_id: str) -> HttpResponse:
        return _file_response(selectors.file_get(user=_me(request), file_id=file_id))


def _file_response(chat_file: ChatFile) -> HttpResponse:
    """Images display inline; anything else downloads. The sandbox CSP and nosniff keep a
    browser from ever running what is inside."""
    charset = "; charset=utf-8" if chat_file.media_type in TEXT_TYPES else ""
    response = HttpResponse(bytes(chat_file.data), content_type=chat_file.media_type + charset)
    as_attachment = chat_file.media_type not in IMAGE_TYPES
    response["Content-Disposition"] = content_disposition_header(as_attachment, chat_file.name or "file") or ""
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["ETag"] = f'"{chat_file.pk}"'
    return response


class PushSubscriptionApi(APIView):
    @extend_schema(
        request=PushSubscriptionCreateSerializer,
        responses={201: PushSubscriptionSerializer},
        description="Register this browser for notifications when a chat finishes: the JSON of its "
        "`PushSubscription`. Subscribing again with the same endpoint refreshes it.",
    )
    def post(self, request: Request) -> Response:
        data = _valid(PushSubscriptionCreateSerializer, request.data)
        subscription = services.push_subscription_save(
            user=_me(request), endpoint=data["endpoint"], p256dh=data["keys"]["p256dh"], auth=data["keys"]["auth"]
        )
        return Response(PushSubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PushSubscriptionDeleteSerializer,
        parameters=[OpenApiParameter("endpoint", OpenApiTypes.URI, description="Instead of a JSON body.")],
        responses={204: None},
        description="Stop notifying this browser (its endpoint in the body or the query).",
    )
    def delete(self, request: Request) -> Response:
        data = _valid(PushSubscriptionDeleteSerializer, request.data or request.query_params)
        services.push_subscription_delete(user=_me(request), endpoint=data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class VapidPublicKeyApi(APIView):
    @extend_schema(responses=VapidPublicKeySerializer, description="The key browsers subscribe with.")
    def get(self, request: Request) -> Response:
        return Response({"public_key": push.public_key()})
