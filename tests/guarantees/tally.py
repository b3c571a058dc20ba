"""The tally of the guarantees suite, a pytest plugin (registered in tests/conftest.py so that
the controller of a parallel run loads it too): probes and violations counted by kind of promise,
printed at the end of the run as one line, e.g.
`2400 probes: 0 price leaks, 0 invisible shown, 0 territory violations, 0 unauthorised transitions`.
Under pytest-xdist each worker hands its counts to the controller, which prints the sum."""

from collections import Counter

KINDS = {
    "leak": "price leaks",
    "invisible": "invisible shown",
    "territory": "territory violations",
    "transition": "unauthorised transitions",
}
FOREIGN = {"foreign": "reads of another organisation's objects"}
EXTRA_KINDS = {"oracle": "disagreements with the oracle"}


class Tally:
    """Probes and violations counted by kind of promise."""

    def __init__(self):
        self.counts = Counter()

    def probe(self, kind: str, problems=()) -> list[str]:
        """Count one probe of `kind` and its problems; return the problems."""
        problems = list(problems)
        self.counts["probes"] += 1
        self.counts[kind] += len(problems)
        return problems

    def summary(self) -> str:
        parts = [f"{self.counts[k]} {label}" for k, label in (KINDS | FOREIGN).items()]
        parts += [f"{self.counts[k]} {label}" for k, label in EXTRA_KINDS.items()
                  if self.counts[k]]
        return f"{self.counts['probes']} probes: " + ", ".join(parts)


TALLY = Tally()


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the tally to the controller
        workeroutput["guarantees_tally"] = dict(TALLY.counts)


def pytest_testnodedown(node, error):
    TALLY.counts.update(getattr(node, "workeroutput", {}).get("guarantees_tally", {}))


def pytest_terminal_summary(terminalreporter):
    if TALLY.counts["probes"]:
        terminalreporter.write_sep("=", "guarantees")
        terminalreporter.write_line(TALLY.summary())
