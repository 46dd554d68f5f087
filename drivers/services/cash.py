"""The cash on delivery a driver owes, and paying it in.

A delivered cash order raises the driver's balance (`jobs`, with the orders app's `COD_COLLECTED`
entry debiting the driver's cash account). A settlement lowers it: cash paid in at a hub, recorded by
ops (`settle_cash_at_hub`, complete at once), or an e-wallet top-up through the payment gateway
(`start_cash_topup`, complete when the gateway's notice arrives: `handle_topup_webhook`). Each
completed settlement books one ledger entry crediting the driver's cash account, so that account's
balance in the ledger equals `DriverProfile.cash_balance_vnd` to the dong.

Every change locks the driver's profile row first (the house order: profile, offer, job, request,
order), so a settlement racing a delivery, or two settlements, never lose an update, and a settlement
can never take more than the driver owes at that moment. A top-up confirmed after a hub settlement
already cleared the debt leaves the balance below zero: the platform owes the driver that much.
A driver owing more than `DRIVER_CASH_LIMIT_VND` gets no cash orders (`drivers.dispatch.cash`).
"""

from django.db import transaction
from django.utils import timezone

from drivers.errors import CashErrors
from drivers.events import record_driver_event
from drivers.models import (
    TOPUP_REF_PREFIX,
    CashSettlement,
    DriverProfile,
    SettlementMethod,
    SettlementStatus,
)
from drivers.selectors import cash_state, takes_cash_orders
from drivers.tasks import request_round
from loship.errors import ApplicationError
from orders.errors import PaymentErrors
from orders.gateways import WebhookNotice, configured_provider
from orders.models import LedgerAccount, LedgerKind
from orders.services import book, open_at_gateway, refuse_amount_mismatch
from users.errors import UserErrors
from users.models import User


def _lock_profile(driver_id: int) -> DriverProfile:
    profile = DriverProfile.objects.select_for_update().filter(pk=driver_id).first()
    if profile is None:
        raise UserErrors.NOT_A_DRIVER()
    return profile


def check_settlement_amount(amount_vnd: int, *, owed_vnd: int) -> None:
    """422 `settlement_amount_invalid` for no dong, 409 `settlement_exceeds_balance` for more than owed."""
    if amount_vnd <= 0:
        raise CashErrors.AMOUNT_INVALID(fields={"amount_vnd": ["> 0"]})
    if amount_vnd > owed_vnd:
        raise CashErrors.EXCEEDS_BALANCE(
            fields={"amount_vnd": [f"<= {max(owed_vnd, 0)}"]}, balance_vnd=owed_vnd
        )


def _complete(
    profile: DriverProfile, settlement: CashSettlement, *, kind: str, debit: str, reference: str
) -> None:
    """Lower the locked driver's balance by the settlement, book it, and tell the driver and ops."""
    was_blocked = not takes_cash_orders(profile.cash_balance_vnd)
    profile.cash_balance_vnd -= settlement.amount_vnd
    profile.save(update_fields=["cash_balance_vnd", "updated_at"])
    settlement.status = SettlementStatus.COMPLETED
    settlement.balance_after_vnd = profile.cash_balance_vnd
    settlement.completed_at = timezone.now()
    settlement.save()
    book(
        kind=kind,
        amount_vnd=settlement.amount_vnd,
        debit=debit,
        credit=LedgerAccount.DRIVER_CASH,
        reference=reference,
        driver_id=profile.pk,
    )
    record_driver_event(
        profile.pk,
        "cash_settled",
        settlement_id=settlement.pk,
        method=settlement.method,
        amount_vnd=settlement.amount_vnd,
        **cash_state(profile.cash_balance_vnd),
    )
    if was_blocked and takes_cash_orders(profile.cash_balance_vnd):
        request_round()


def settle_cash_at_hub(
    *, driver_id: int, amount_vnd: int, hub: str, actor: User, note: str = ""
) -> CashSettlement:
    """Ops took `amount_vnd` of cash from the driver at `hub`: the balance falls at once. More than the
    driver owes is a 409 `settlement_exceeds_balance` and nothing is written."""
    with transaction.atomic():
        profile = _lock_profile(driver_id)
        check_settlement_amount(amount_vnd, owed_vnd=profile.cash_balance_vnd)
        settlement = CashSettlement.objects.create(
            driver_id=driver_id,
            method=SettlementMethod.HUB,
            status=SettlementStatus.COMPLETED,
            amount_vnd=amount_vnd,
            hub=hub[:100],
            note=note[:255],
            recorded_by=actor,
        )
        _complete(
            profile,
            settlement,
            kind=LedgerKind.CASH_SETTLED,
            debit=LedgerAccount.HUB_CASH,
            reference=f"hub:{settlement.pk}",
        )
    return settlement


def start_cash_topup(*, driver: User, amount_vnd: int) -> CashSettlement:
    """Open an e-wallet payment of `amount_vnd` towards the driver's cash owed; the balance falls when
    the gateway confirms it. A gateway that cannot open it is a 503, and the attempt is marked failed."""
    with transaction.atomic():
        profile = _lock_profile(driver.pk)
        check_settlement_amount(amount_vnd, owed_vnd=profile.cash_balance_vnd)
        settlement = CashSettlement.objects.create(
            driver=driver,
            method=SettlementMethod.WALLET,
            status=SettlementStatus.PENDING,
            amount_vnd=amount_vnd,
            provider=configured_provider(),
        )
    try:
        return open_at_gateway(
            settlement,
            provider=settlement.provider,
            merchant_ref=settlement.merchant_ref,
            amount_vnd=amount_vnd,
            description=f"Loship cash top-up {settlement.pk}",
            return_code=settlement.merchant_ref,
        )
    except ApplicationError:
        CashSettlement.objects.filter(pk=settlement.pk, status=SettlementStatus.PENDING).update(
            status=SettlementStatus.FAILED
        )
        raise


def handle_topup_webhook(notice: WebhookNotice, provider: str) -> str:
    """Apply a verified notice of a top-up's payment once; answers the settlement's status."""
    settlement = CashSettlement.objects.filter(provider=provider, provider_ref=notice.provider_ref).first()
    if settlement is None:
        settlement_id = notice.merchant_ref.removeprefix(TOPUP_REF_PREFIX)
        if settlement_id.isdigit():
            settlement = CashSettlement.objects.filter(
                pk=int(settlement_id), provider=provider, provider_ref=""
            ).first()
    if settlement is None:
        raise PaymentErrors.PAYMENT_NOT_FOUND()
    if notice.amount_vnd != settlement.amount_vnd:
        raise refuse_amount_mismatch(notice=notice, provider=provider, expected_vnd=settlement.amount_vnd)
    with transaction.atomic():
        profile = _lock_profile(settlement.driver_id)
        settlement = CashSettlement.objects.select_for_update().get(pk=settlement.pk)
        settlement.provider_ref = settlement.provider_ref or notice.provider_ref
        if notice.succeeded and settlement.status != SettlementStatus.COMPLETED:
            _complete(
                profile,
                settlement,
                kind=LedgerKind.CASH_TOPUP,
                debit=LedgerAccount.GATEWAY,
                reference=f"{provider}:{settlement.provider_ref}",
            )
        elif not notice.succeeded and settlement.status == SettlementStatus.PENDING:
            settlement.status = SettlementStatus.FAILED
            settlement.save(update_fields=["status", "provider_ref"])
    return settlement.status
