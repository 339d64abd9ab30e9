"""Running a subprocess without root's power to read any file.

Permission tests need a file the process cannot read; as root (CI runs as root) every file
is readable through CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. Dropping both from the
bounding set before exec leaves a root process that obeys file modes like anyone else.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _drop_dac_capabilities() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def obeying_file_modes() -> Callable[[], None] | None:
    """A ``preexec_fn`` for subprocess when running as root, else None (nothing to drop)."""
    return _drop_dac_capabilities if os.geteuid() == 0 else None
