"""Every URL pattern of the project with its full route, read from the URL resolver."""

from django.urls import URLPattern, URLResolver, get_resolver


def url_patterns() -> list[tuple[str, URLPattern]]:
    found = []

    def walk(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                found.append((route, entry))

    walk(get_resolver().url_patterns)
    return found
