"""The web page and HTTP API of `newsbot serve`."""
