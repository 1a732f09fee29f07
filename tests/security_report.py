"""The closing lines of the security suites (the role matrix, the hostile input): how many cases
each tried and that none got through, printed at the end of the run whether or not pytest
captures output."""
from __future__ import annotations

NAME = "itinera-security-report"


class SecurityReport:
    """A pytest plugin registered by the first suite that reports; its lines close the run."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.lines:
            terminalreporter.section("security")
            for line in self.lines:
                terminalreporter.write_line(line)


def report(config, line: str) -> None:
    """Add ``line`` to the end of this run's output."""
    plugin = config.pluginmanager.get_plugin(NAME)
    if plugin is None:
        plugin = SecurityReport()
        config.pluginmanager.register(plugin, NAME)
    plugin.lines.append(line)
