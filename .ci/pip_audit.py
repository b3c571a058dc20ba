"""Run pip-audit over the installed environment and say plainly what it did.

pip-audit needs its vulnerability data (the PyPI JSON API or OSV). Where that cannot be reached it
either fails to connect or reports every package as "could not be audited" and then, misleadingly,
"No known vulnerabilities found". This wrapper tells the three outcomes apart:
  audited, nothing known  -> exit 0, says how many packages were audited
  known vulnerabilities   -> exit 1, lists them
  data unreachable        -> exit 0, prints "pip-audit SKIPPED" with the reason
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def main() -> int:
    if not PIP_AUDIT.exists():
        print("ci: pip-audit SKIPPED: not installed in this environment")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        try:
            run = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
                [str(PIP_AUDIT), "--local", "--skip-editable", "--progress-spinner", "off",
                 "--timeout", "20", "--format", "json", "--output", str(report)],
                capture_output=True, text=True, timeout=600, check=False,
            )
        except subprocess.TimeoutExpired:
            print("ci: pip-audit SKIPPED: its vulnerability service did not answer in time")
            return 0
        if not report.exists() or not report.read_text().strip():
            reason = (run.stderr.strip().splitlines() or ["no report written"])[-1]
            print(f"ci: pip-audit SKIPPED: vulnerability data unreachable ({reason[:200]})")
            return 0
        dependencies = json.loads(report.read_text())["dependencies"]
    audited = [d for d in dependencies if not d.get("skip_reason")]
    vulnerable = [d for d in audited if d.get("vulns")]
    if not audited:
        print(
            f"ci: pip-audit SKIPPED: none of {len(dependencies)} packages could be audited "
            "(the vulnerability data is not reachable from this machine)"
        )
        return 0
    for dependency in vulnerable:
        ids = ", ".join(v["id"] for v in dependency["vulns"])
        print(f"ci: pip-audit: {dependency['name']} {dependency['version']}: {ids}")
    skipped = len(dependencies) - len(audited)
    print(
        f"ci: pip-audit: {len(audited)} packages audited, {len(vulnerable)} with known "
        f"vulnerabilities, {skipped} could not be audited"
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
