"""The one error type of ordering: something the buyer can fix or must be told, with a code."""


class OrderError(Exception):
    """A refused cart change, checkout or transition. `field` names the input at fault (a form
    field, an API body field); `rows` carries per-row messages of a quick order; `review` the
    fresh checkout review when prices changed and must be confirmed."""

    def __init__(self, code: str, message: str, *, field: str = "", rows=None, review=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.rows = rows or {}
        self.review = review

    def __str__(self) -> str:
        return self.message
