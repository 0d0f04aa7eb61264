from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    ordering = "-updated_at"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
