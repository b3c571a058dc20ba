"""Front-page content blocks, saved through the service that staff's admin uses."""

from merchandising.models import BlockAudience, BlockKind, ContentBlock
from merchandising.services import content_block_save

_serial = iter(range(1, 10**6))


def make_block(*, segments=(), products=(), categories=(), **fields) -> ContentBlock:
    """A block (a message aimed at `segments` unless told otherwise)."""
    fields.setdefault("title", f"Notice {next(_serial)}")
    fields.setdefault("kind", BlockKind.MESSAGE)
    if not segments:
        fields.setdefault("audience", BlockAudience.EVERYONE)
    return content_block_save(block=ContentBlock(**fields), segments=list(segments),
                              products=list(products), categories=list(categories))
