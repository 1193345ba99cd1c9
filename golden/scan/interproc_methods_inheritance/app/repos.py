from app.base import BaseRepository
from app.models import Order


class OrderRepository(BaseRepository):
    model = Order

    def open_orders(self) -> list:
        return [o for o in self.list_all() if o.open]
