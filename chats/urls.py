from django.urls import path

from chats import apis

urlpatterns = [
    path("chats/", apis.ChatListCreateApi.as_view(), name="chat-list"),
    path("chats/<str:chat_id>/", apis.ChatDetailApi.as_view(), name="chat-detail"),
    path("chats/<str:chat_id>/messages/", apis.MessageListSendApi.as_view(), name="chat-messages"),
    path("chats/<str:chat_id>/messages/<int:message_id>/", apis.MessageEditApi.as_view(), name="chat-message"),
    path("chats/<str:chat_id>/interrupt/", apis.ChatInterruptApi.as_view(), name="chat-interrupt"),
    path("chats/<str:chat_id>/queue/<int:queued_id>/", apis.QueuedMessageDeleteApi.as_view(), name="chat-queued"),
    path(
        "chats/<str:chat_id>/queue/<int:queued_id>/promote/",
        apis.QueuedMessagePromoteApi.as_view(),
        name="chat-queued-promote",
    ),
    path("chats/<str:chat_id>/title/regenerate/", apis.TitleRegenerateApi.as_view(), name="chat-title-regenerate"),
    path("chats/<str:chat_id>/diff/", apis.ChatDiffApi.as_view(), name="chat-diff"),
    path("chats/<str:chat_id>/cost/", apis.ChatCostApi.as_view(), name="chat-cost"),
    path("files/", apis.FileUploadApi.as_view(), name="file-upload"),
    path("files/<str:file_id>/", apis.FileDownloadApi.as_view(), name="file-download"),
    path("push/subscriptions/", apis.PushSubscriptionApi.as_view(), name="push-subscriptions"),
    path("push/vapid-public-key/", apis.VapidPublicKeyApi.as_view(), name="push-vapid-public-key"),
    path("me/prompt/", apis.MyPromptApi.as_view(), name="my-prompt"),
]
