# The corpus test's confusion table at the end of the run (report_plugin.py says how).
from tests.outreach_queue.reading.report_plugin import (  # noqa: F401
    pytest_runtest_logreport,
    pytest_terminal_summary,
)
