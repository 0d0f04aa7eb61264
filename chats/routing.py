from django.urls import path

from chats import consumers, desktop

websocket_urlpatterns = [
    path("ws/chats/", consumers.SidebarConsumer.as_asgi()),
    path("ws/chats/<str:chat_id>/desktop/", desktop.DesktopConsumer.as_asgi()),
    path("ws/chats/<str:chat_id>/", consumers.ChatStreamConsumer.as_asgi()),
]
