"""Break points of long URLs and tokens: URL-safe first, then anywhere; ordinary words left to the hyphenator."""

from anthology.layout.breaks import break_points


def test_urls_break_after_url_safe_characters_first_rightmost_first():
    url = "https://example.org/a?id=x_y"
    points = break_points(url)
    assert [url[:i] for i in points[:6]] == ["https://example.org/a?id=x_", "https://example.org/a?id=",
                                             "https://example.org/a?", "https://example.org/",
                                             "https://example.", "https://"]
    assert sorted(points) == list(range(1, len(url)))  # and failing those, anywhere


def test_words_and_short_tokens_are_left_to_the_hyphenator():
    assert break_points("Donaudampfschifffahrtsgesellschaftskapitän") is None
    assert break_points("self-evidently") is None
    assert break_points("a/b") is None
    assert break_points("www.example.org") is not None
    assert break_points("x" * 10 + "_" + "1" * 20) is not None
