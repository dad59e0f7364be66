"""Articles: the `Article` record and loading it from files (text, markdown, HTML, JSON).

Metadata comes from front matter, from the page (trafilatura), from JSON fields, and for raw
wire text from datelines such as ``CITY, Dec 2 (Wire) -``, ``SOURCE:`` lines and bylines.
Feeds (`feeds`) list the article pages that `bot.sources` fetches.
"""

from bot.articles.files import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, discover, load_file, load_text
from bot.articles.model import Article, LoadFailure, article_id, normalise_text

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "Article",
    "LoadFailure",
    "article_id",
    "discover",
    "load_file",
    "load_text",
    "normalise_text",
]
