"""The domain services. Importing any of them installs the change feed's session events
(app/services/changes/record.py): no write through the ORM can miss its change rows."""

from app.services.changes import record as _change_record  # noqa: F401
