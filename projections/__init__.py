"""Read models of the ledger: deterministic functions of the signed records.

Each module defines one `PROJECTION` (name, version, handlers per event type) over its own
tables; `ALL` lists them. The same code runs live (kept current by the runner), in a rebuild, and
in an auditor's replay, and every one has a content digest to compare.
"""

from projections import certificate_register, programme_roster, public_register, trainer_status
from projections.base import Projection

ALL: tuple[Projection, ...] = (
    trainer_status.PROJECTION,
    certificate_register.PROJECTION,
    programme_roster.PROJECTION,
    public_register.PROJECTION,
)
BY_NAME = {projection.name: projection for projection in ALL}
