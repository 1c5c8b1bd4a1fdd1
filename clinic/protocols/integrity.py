"""Tamper evidence for prescriptions: content hashes of versions, a hash chain of events.

A version's hash covers every prescribed value of its stages. Each event's hash covers the
event, the hash of the version it put in force, and the previous event's hash, so changing
or deleting any past record breaks every hash after it. `verify` recomputes the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from clinic.models import Protocol, ProtocolEvent, ProtocolStage

GENESIS = "0" * 64


def _digest(payload: object) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical_stage(stage: ProtocolStage) -> dict[str, object]:
    values = {"position": stage.position, **stage.stage_values()}
    depth = values["target_depth_cm"]
    # Engines return a stored 15.0 as 15 or 15.0: hash the value, not its spelling.
    values["target_depth_cm"] = None if depth is None else f"{float(depth):.1f}"
    return values


def version_hash(stages: Sequence[ProtocolStage]) -> str:
    """The hash of a plan's stages, in order."""
    return _digest([_canonical_stage(s) for s in sorted(stages, key=lambda s: s.position)])


def event_hash(event: ProtocolEvent, version_content_hash: str, previous: str) -> str:
    """The chain hash of `event` following the event whose hash is `previous`."""
    return _digest(
        {
            "previous": previous,
            "version": version_content_hash,
            "kind": event.kind.value,
            "effective_on": event.effective_on.isoformat(),
            "version_number": event.version_number,
            "stage": event.stage,
            "reason": event.reason,
            "resume_on": event.resume_on.isoformat() if event.resume_on else None,
            "created_by_id": event.created_by_id,
            "created_at": event.created_at.isoformat(),
        }
    )


def verify(protocol: Protocol) -> bool:
    """Whether every version and event still matches the hashes recorded with it."""
    versions = {v.number: v for v in protocol.versions}
    for version in versions.values():
        if version_hash(version.stages) != version.content_hash:
            return False
    previous = GENESIS
    for event in protocol.events:
        version = versions.get(event.version_number)
        if version is None or event_hash(event, version.content_hash, previous) != event.chain_hash:
            return False
        previous = event.chain_hash
    return True
