"""newsbot: answers questions over news articles, attributing every contested claim."""

__version__ = "0.1.0"
