from sqlmodel import Session

from app.models import Order
from app.repos import OrderRepository
from app.services import Outer, PricingService


async def orders(session: Session, order: Order) -> dict:
    repo = OrderRepository(session)  # ok: __init__ only stores the session
    everything = repo.list_all()  # expect: AM200 via=BaseRepository.list_all
    still_open = repo.open_orders()  # expect: AM200 via=OrderRepository.open_orders,BaseRepository.list_all
    repo.save(order)  # expect: AM200 via=BaseRepository.save
    name = repo.describe()  # ok: pure
    digest = PricingService.checksum(b"x")  # ok: pure static method
    PricingService.warm_cache()  # expect: AM150 via=PricingService.warm_cache
    svc = PricingService.from_disk("rates.json")  # expect: AM120 via=PricingService.from_disk
    price = await svc.quote("sku-1")  # ok: the finding is inside quote
    blob = Outer.Inner().load()  # expect: AM120 via=Inner.load
    return {"all": everything, "open": still_open, "name": name, "digest": digest, "price": price, "blob": blob}
