import shop.services.payments as pay
import shop.services.storage
from fastapi import APIRouter
from shop.services import charge as charge_again
from shop.services import payments
from shop.services.payments import charge as do_charge
from shop.services.payments import fmt_amount

from . import helpers
from ..utils import slug, throttle
from .helpers import audit as write_audit

router = APIRouter()


@router.post("/checkout")
async def checkout(amount: int, name: str) -> dict:
    result = do_charge(amount)  # expect: AM100 via=charge
    label = fmt_amount(amount)  # ok: pure helper
    key = slug(name)  # ok: pure helper
    pay.refund("ch_1")  # expect: AM100 via=refund
    payments.refund("ch_2")  # expect: AM100 via=refund
    charge_again(amount)  # expect: AM100 via=charge
    shop.services.storage.archive_receipt("/tmp/r.pdf")  # expect: AM131 via=archive_receipt
    throttle()  # expect: AM150 via=throttle
    helpers.audit("checkout")  # expect: AM120 via=audit
    write_audit("done")  # expect: AM120 via=audit
    return {"result": result, "label": label, "key": key}
