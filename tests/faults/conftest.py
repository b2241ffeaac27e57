"""Fixtures of the fault tests (defined in :mod:`tests.faults.harness`)."""

from tests.faults.harness import fakes, fault_db, itinera_process, make_world

__all__ = ["fakes", "fault_db", "itinera_process", "make_world"]
