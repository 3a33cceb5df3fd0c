"""mkdocs hook: Sphinx roles in the API docstrings rendered as plain code."""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const|term):(?=<code>)")


def on_page_content(html: str, **kwargs: Any) -> str:
    """``:class:<code>X</code>`` (a role rendered as text) becomes ``<code>X</code>``."""
    return ROLE.sub("", html)
