"""Attachments over the API (API.md §5): sniffed types, the size cap, owner-only reads, chat links."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from chats import services
from chats.attachments import MAX_FILE_BYTES, MAX_FILES_PER_CHAT, clean_name
from chats.models import ChatFile
from tests.chats.samples import ALLOWED, GIF, JPEG, PDF, SVG, WEBP, png, upload

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.mark.parametrize(("name", "declared", "data", "stored"), ALLOWED, ids=[a[0] for a in ALLOWED])
def test_each_allowed_type_is_accepted_by_its_content(
    alice_api: Any, name: str, declared: str, data: bytes, stored: str
) -> None:
    response = upload(alice_api, name, declared, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {"id": body["id"], "name": name, "media_type": stored, "size": len(data)}
    download = alice_api.get(f"/api/files/{body['id']}/")
    assert download.status_code == 200
    assert download.content == data
    assert download["Content-Type"].split(";")[0] == stored
    assert download["Cache-Control"] == "private, max-age=31536000, immutable"
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "data", "stored"),
    [("upload.bin", png(), "image/png"), ("blob", PDF, "application/pdf"), ("data", b"[1, 2]", "application/json"),
     ("notes.md", b"# Heading", "text/markdown"), ("paste", b"just words", "text/plain")],
)  # fmt: skip
def test_without_a_declared_type_the_bytes_and_extension_decide(
    alice_api: Any, name: str, data: bytes, stored: str
) -> None:
    response = upload(alice_api, name, "application/octet-stream", data)
    assert response.status_code == 201, response.content
    assert response.json()["media_type"] == stored


@pytest.mark.parametrize(
    ("name", "declared", "data"),
    [
        ("pixel.png", "image/png", GIF),  # an image of another format
        ("pixel.png", "image/png", b"not an image at all"),
        ("photo.jpg", "image/jpeg", png()),
        ("anim.gif", "image/gif", JPEG),
        ("pic.webp", "image/webp", b"RIFF\x1a\x00\x00\x00WAVEfmt "),  # RIFF, but audio
        ("paper.pdf", "application/pdf", b"%PDX not really"),
        ("notes.txt", "text/plain", png()),
        ("README.md", "text/markdown", WEBP),
        ("table.csv", "text/csv", b"a,b\x00\x01\x02binary"),
        ("data.json", "application/json", b"{not json"),
    ],
)
def test_a_declared_type_the_bytes_contradict_is_refused(alice_api: Any, name: str, declared: str, data: bytes) -> None:
    response = upload(alice_api, name, declared, data)
    assert response.status_code == 400
    assert response.json()["code"] in ("file_type_mismatch", "unsupported_file_type")
    assert not ChatFile.objects.exists()


@pytest.mark.parametrize(
    ("name", "declared"),
    [("logo.svg", "image/svg+xml"), ("logo.svg", "text/plain"), ("logo.svg", "application/octet-stream"),
     ("logo.txt", ""), ("commented.txt", "text/plain"), ("page.html", "text/html"), ("page", "")],
)  # fmt: skip
def test_svg_and_markup_are_refused_whatever_the_client_says(alice_api: Any, name: str, declared: str) -> None:
    data = {
        "commented.txt": b"<!-- Generator: an editor -->\n" + SVG,
        "page.html": b"<!DOCTYPE html><html><script></script></html>",
        "page": b"<html><body onload=alert(1)></body></html>",
    }.get(name, SVG)
    response = upload(alice_api, name, declared, data)
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_file_type"


def test_other_binary_formats_are_refused(alice_api: Any) -> None:
    response = upload(alice_api, "archive.zip", "application/octet-stream", b"PK\x03\x04\x14\x00\x00\x00binary")
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_file_type"


def test_ten_mebibytes_are_accepted_and_one_byte_more_is_413(alice_api: Any) -> None:
    assert upload(alice_api, "big.txt", "text/plain", b"a" * MAX_FILE_BYTES).status_code == 201
    response = upload(alice_api, "bigger.txt", "text/plain", b"a" * (MAX_FILE_BYTES + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert ChatFile.objects.count() == 1


def test_a_body_far_over_the_cap_is_refused_before_parsing(alice_api: Any) -> None:
    response = alice_api.generic(
        "POST", "/api/files/", b"x" * 16, content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(MAX_FILE_BYTES * 2),
    )  # fmt: skip
    assert response.status_code == 413


def test_an_empty_file_or_a_missing_field_is_400(alice_api: Any) -> None:
    assert upload(alice_api, "empty.txt", "text/plain", b"").status_code == 400
    assert alice_api.post("/api/files/", {}).status_code == 400


def test_only_the_owner_can_read_a_file(alice_api: Any, bob_api: Any) -> None:
    file_id = upload(alice_api, "pixel.png", "image/png", png()).json()["id"]
    assert bob_api.get(f"/api/files/{file_id}/").status_code == 404
    assert alice_api.get("/api/files/not-a-uuid/").status_code == 404
    assert APIClient().get(f"/api/files/{file_id}/").status_code == 401


def test_images_display_inline_and_other_files_download(alice_api: Any) -> None:
    image = upload(alice_api, "pixel.png", "image/png", png()).json()
    text = upload(alice_api, "notes.txt", "text/plain", b"hello").json()
    assert alice_api.get(f"/api/files/{image['id']}/")["Content-Disposition"] == 'inline; filename="pixel.png"'
    assert alice_api.get(f"/api/files/{text['id']}/")["Content-Disposition"] == 'attachment; filename="notes.txt"'


def test_an_img_accept_header_still_gets_the_bytes(alice_api: Any) -> None:
    file_id = upload(alice_api, "pixel.png", "image/png", png()).json()["id"]
    response = alice_api.get(f"/api/files/{file_id}/", HTTP_ACCEPT="image/avif,image/webp")
    assert response.status_code == 200 and response.content == png()


def test_a_hostile_name_cannot_inject_headers(alice_api: Any, alice: Any) -> None:
    # The multipart parser already drops paths; the service cleans what remains.
    chat_file = services.file_create(
        owner=alice, data=b"hi", name='evil"\r\nSet-Cookie: x=1\u202egnp.txt', declared_type="text/plain"
    )
    disposition = alice_api.get(f"/api/files/{chat_file.pk}/")["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "\u202e" not in disposition
    assert disposition == 'attachment; filename="evil\\"Set-Cookie: x=1gnp.txt"'
    unicode_name = upload(alice_api, "résumé ☕.txt", "text/plain", b"cv").json()
    assert alice_api.get(f"/api/files/{unicode_name['id']}/")["Content-Disposition"] == (
        "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20%E2%98%95.txt"
    )


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("../../etc/passwd", "passwd"), ("C:\\Users\\a\\report.pdf", "report.pdf"), ("a\x00b\x1fc.txt", "abc.txt"),
     ("  spaced \t name .md ", "spaced name .md"), ("", "file"), ("..", "file"), ("\u202e\u200b", "file")],
)  # fmt: skip
def test_clean_name_keeps_a_plain_base_name(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


def test_clean_name_cuts_at_255_bytes_on_a_character_boundary() -> None:
    name = clean_name("é" * 200 + ".txt")  # 2 bytes each
    assert len(name.encode()) <= 255
    assert name == "é" * 127


def test_a_message_refers_to_a_file_by_id_and_links_it_to_the_chat(
    alice_api: Any, bob_api: Any, model_config: Any
) -> None:
    file_id = upload(alice_api, "pixel.png", "image/png", png()).json()["id"]
    content = [{"type": "text", "text": "What is this?"}, {"type": "file", "file_id": file_id}]
    chat = alice_api.post("/api/chats/", {"content": content}, format="json").json()
    parts = alice_api.get(f"/api/chats/{chat['id']}/messages/").json()["messages"][0]["parts"]
    assert parts[1] == {"type": "file", "file_id": file_id, "media_type": "image/png", "name": "pixel.png"}
    assert str(ChatFile.objects.get(pk=file_id).chat_id) == chat["id"]
    # Another user cannot attach it.
    response = bob_api.post("/api/chats/", {"content": content}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_file"


def test_a_chat_holds_at_most_fifty_files(alice: Any, alice_api: Any, model_config: Any) -> None:
    def new_file() -> dict[str, str]:
        chat_file = services.file_create(owner=alice, data=png(), name="p.png", declared_type="image/png")
        return {"type": "file", "file_id": str(chat_file.pk)}

    files = [new_file() for _ in range(MAX_FILES_PER_CHAT)]
    chat = services.chat_create(owner=alice, content=[{"type": "text", "text": "many"}, *files])
    again = alice_api.post(f"/api/chats/{chat.pk}/messages/", {"content": files[:3]}, format="json")
    assert again.status_code in (201, 202)  # files already in the chat do not count twice
    response = alice_api.post(f"/api/chats/{chat.pk}/messages/", {"content": [new_file()]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_files"
    too_many = [new_file() for _ in range(MAX_FILES_PER_CHAT + 1)]
    response = alice_api.post("/api/chats/", {"content": too_many}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "too_many_files"
