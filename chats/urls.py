from django.urls import path

from chats import apis

urlpatterns = [
    path("chats/", apis.ChatListCreateApi.as_view(), name="chat-list"),
    path("chats/<str:chat_id>/", apis.ChatDetailApi.as_view(), name="chat-detail"),
    path("chats/<str:chat_id>/messages/", apis.MessageListSendApi.as_view(), name="chat-messages"),
]
