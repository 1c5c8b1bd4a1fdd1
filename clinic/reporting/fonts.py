"""Is the system library that keeps PDF rendering quick installed?

WeasyPrint subsets the fonts it embeds with HarfBuzz's subsetter (`libharfbuzz-subset0`
on Debian). Without it, WeasyPrint falls back to fontTools and renders every document
2 to 5 times slower (the first one takes about 1.7 s). It still works, so the slowness is
easy to miss: the test suite and `.ci/system-deps` check for the library and say so plainly
(the same message in both).
"""

from __future__ import annotations

from ctypes.util import find_library

PACKAGE = "libharfbuzz-subset0"
MISSING_MESSAGE = (
    f"{PACKAGE} is missing: install it (apt-get install {PACKAGE}); "
    "without it WeasyPrint is 2\u20135\u00d7 slower"  # en dash, times sign
)


def harfbuzz_subset_available() -> bool:
    """Whether the dynamic linker finds HarfBuzz's subsetting library."""
    return find_library("harfbuzz-subset") is not None
