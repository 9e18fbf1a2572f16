"""A MkDocs hook: Sphinx roles in docstrings (:func:`x`) render as code.

The docstrings follow numpy style with Sphinx cross-reference roles, as Polars'
do, so that ``help()`` and IDEs read naturally; mkdocstrings leaves the roles as
text, which this turns into plain inline code.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj):(<code>[^<]*</code>)")


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(r"\1", html)
