"""Distance from a merchant to a drop-off point: the shared arithmetic lives in `merchants.geo`, so the
catalog's delivery preview and order pricing measure the same way."""

from merchants.geo import ROAD_FACTOR, Distance, delivery_distance, haversine_m

__all__ = ["ROAD_FACTOR", "Distance", "delivery_distance", "haversine_m"]
