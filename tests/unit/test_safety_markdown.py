"""The Markdown subset of the safety documents (clinic.safety.markdown): headings shifted
to the page's level, paragraphs joined, list items with continuation lines, bold, and
everything escaped."""

from __future__ import annotations

from clinic.safety.markdown import render


def test_headings_paragraphs_lists_and_bold() -> None:
    """`#` and `##` become the page's levels; lines of a paragraph or an item join; bold."""
    text = (
        "# Title\n\n## Part\n\nOne line\nand the next.\n\n"
        "- **first** item\n  continued\n- second\n\nAfter.\n"
    )
    assert render(text, top=2) == (
        "<h2>Title</h2>\n<h3>Part</h3>\n<p>One line and the next.</p>\n<ul>\n"
        "<li><strong>first</strong> item continued</li>\n<li>second</li>\n</ul>\n"
        "<p>After.</p>"
    )


def test_markup_in_the_document_is_shown_as_text() -> None:
    """The document cannot carry markup: tags and entities are escaped."""
    html = render("A <script>alert(1)</script> & **<b>bold</b>**")
    assert html == (
        "<p>A &lt;script&gt;alert(1)&lt;/script&gt; &amp; "
        "<strong>&lt;b&gt;bold&lt;/b&gt;</strong></p>"
    )


def test_a_list_ends_where_a_paragraph_starts() -> None:
    """A paragraph right after a list closes the list."""
    assert render("- a\n\nText") == "<ul>\n<li>a</li>\n</ul>\n<p>Text</p>"
