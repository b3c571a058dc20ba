"""The one concurrency harness: jobs run in threads released together behind a barrier, so they
really race. Each thread closes its database connection when done; a job's domain refusal is its
outcome (the error code), any other exception — a deadlock included — is collected as an error
for the test to assert there were none."""

import threading
import time

from django.db import connection

from ordering.errors import OrderError


def race(jobs, *, stagger: float = 0.0) -> tuple[list, list[str]]:
    """Run `jobs` (callables) at once; job i starts `i * stagger` seconds after the release, so
    later ones can land before, during and after an earlier one's transaction. Returns the
    outcomes (results or refusal codes) and the unexpected errors."""
    barrier = threading.Barrier(len(jobs))
    outcomes, errors = [], []

    def run(position, job):
        try:
            barrier.wait()
            time.sleep(position * stagger)
            outcomes.append(job())
        except OrderError as error:
            outcomes.append(error.code)
        except Exception as error:  # a deadlock or any other failure fails the test
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, errors
