"""Prints the corpus confusion table at the end of a run, with or without -s, with or without xdist.

The test attaches the table to its report (`record_property`); reports travel from xdist workers to
the controller, where these hooks print it. This package's conftest registers the hooks when the
package is run; `pytest_plugins = ["tests.outreach_queue.reading.report_plugin"]` in tests/conftest.py
would print it on a whole-suite run too (registered twice, it still prints once).
"""

TABLE_PROPERTY = "reply_reading_confusion_table"
_tables: list[str] = []
_printed = False


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == TABLE_PROPERTY and value not in _tables:
            _tables.append(value)


def pytest_terminal_summary(terminalreporter):
    global _printed
    if _printed or not _tables:
        return
    _printed = True
    for table in _tables:
        terminalreporter.write_sep("-", "reply-reading corpus")
        terminalreporter.write_line(table)
