"""Every write of the drivers app (one verb per business action).

Split by sub-domain: profiles (online/offline, shift, location fixes), offers (create, accept, decline,
expire, ops assign/unassign), jobs (pickup and drop-off flow, earnings, cash on delivery), pool (the
dispatch pool, fed by the orders app's events), cash (settling the cash on delivery a driver owes: at a hub,
or by e-wallet top-up) and requests (the dispatch-request primitives the pool
and the jobs share). Imports point one way: profiles -> offers -> jobs -> requests, pool -> offers,
jobs, requests; services import tasks at module level, tasks import services inside their bodies.

Row locks are always taken in one order: driver profile, offer, job, dispatch request, order.
"""

from drivers.services.cash import handle_topup_webhook, settle_cash_at_hub, start_cash_topup
from drivers.services.jobs import advance_job, sync_carrying
from drivers.services.offers import (
    accept_offer,
    assign_by_ops,
    create_offer,
    decline_offer,
    expire_offers,
    unassign_by_ops,
    withdraw_stale_offers,
)
from drivers.services.pool import (
    close_dispatch,
    enter_pool,
    mark_food_ready,
    release_order,
)
from drivers.services.profiles import (
    LocationReport,
    ensure_profile,
    go_offline,
    go_online,
    record_location_fixes,
    save_due_positions,
    set_shift_end,
    update_profile,
)

__all__ = [
    "LocationReport",
    "accept_offer",
    "advance_job",
    "assign_by_ops",
    "close_dispatch",
    "create_offer",
    "decline_offer",
    "ensure_profile",
    "enter_pool",
    "expire_offers",
    "go_offline",
    "go_online",
    "handle_topup_webhook",
    "mark_food_ready",
    "record_location_fixes",
    "release_order",
    "save_due_positions",
    "set_shift_end",
    "settle_cash_at_hub",
    "start_cash_topup",
    "sync_carrying",
    "unassign_by_ops",
    "update_profile",
    "withdraw_stale_offers",
]
