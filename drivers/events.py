"""The drivers app's outbox events (topics `offer.*`, `job.*`, `driver.*`) and their payloads."""

from typing import Any

from drivers.models import DispatchRequest, Job, Offer
from loship.events.services import record_event
from loship.timefmt import iso, iso_or_none


def offer_payload(offer: Offer) -> dict[str, Any]:
    return {
        "offer_id": offer.pk,
        "driver_id": offer.driver_id,
        "order_ids": list(offer.order_ids),
        "status": offer.status,
        "expires_at": iso(offer.expires_at),
        "pickup_eta": iso_or_none(offer.pickup_eta),
    }


def job_payload(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.pk,
        "offer_id": job.offer_id,
        "order_id": job.order_id,
        "driver_id": job.driver_id,
        "sequence": job.sequence,
        "state": job.state,
        "pickup_eta": iso_or_none(job.pickup_eta),
        "dropoff_eta": iso_or_none(job.dropoff_eta),
        "reason": job.failure_reason,
    }


def record_offer_event(offer: Offer, kind: str) -> None:
    """`offer.<kind>` (created, accepted, declined, expired, withdrawn)."""
    record_event(
        topic=f"offer.{kind}", aggregate_type="offer", aggregate_id=offer.pk, payload=offer_payload(offer)
    )


def record_job_event(job: Job) -> None:
    """`job.<state>` after every job transition."""
    record_event(
        topic=f"job.{job.state}", aggregate_type="job", aggregate_id=job.pk, payload=job_payload(job)
    )


def record_driver_event(driver_id: int, kind: str, **payload: Any) -> None:
    """`driver.<kind>` (online, offline)."""
    record_event(
        topic=f"driver.{kind}",
        aggregate_type="driver",
        aggregate_id=driver_id,
        payload={"driver_id": driver_id, **payload},
    )


def record_no_driver_alert(request: DispatchRequest, *, waited_minutes: float) -> None:
    """`driver.not_found`: ops must look at an order nobody has taken for a while."""
    record_event(
        topic="driver.not_found",
        aggregate_type="order",
        aggregate_id=request.order_id,
        payload={
            "order_id": request.order_id,
            "waited_minutes": round(waited_minutes, 1),
            "search_radius_m": request.search_radius_m,
            "offers_made": request.offers_made,
        },
    )
