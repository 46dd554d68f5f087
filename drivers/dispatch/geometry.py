"""Points and travel-time models; every time in dispatch is minutes as a float."""

import math
from dataclasses import dataclass
from typing import Protocol

EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True, slots=True)
class Point:
    """A location: planar metres (MDRP, UTM) or degrees with x=longitude, y=latitude (GeoJSON order)."""

    x: float
    y: float


class TravelModel(Protocol):
    """Minutes to drive between two points, plus what the spatial index needs to prune drivers."""

    def minutes(self, origin: Point, destination: Point) -> float:
        """Driving time in minutes from origin to destination."""
        ...

    def to_plane(self, point: Point) -> tuple[float, float]:
        """Planar metres (approximately, for bucketing) of a point."""
        ...

    def minutes_at_least(self, plane_metres: float) -> float:
        """A lower bound on the minutes needed to cover a planar distance."""
        ...


@dataclass(frozen=True, slots=True)
class EuclideanTravel:
    """MDRP travel: ceil(euclidean metres / metres-per-minute)."""

    metres_per_minute: float

    def minutes(self, origin: Point, destination: Point) -> float:
        return float(
            math.ceil(math.hypot(origin.x - destination.x, origin.y - destination.y) / self.metres_per_minute)
        )

    def to_plane(self, point: Point) -> tuple[float, float]:
        return point.x, point.y

    def minutes_at_least(self, plane_metres: float) -> float:
        return plane_metres / self.metres_per_minute


@dataclass(frozen=True, slots=True)
class HaversineTravel:
    """Road travel on lat/lng: great-circle km times a road factor at an average speed."""

    road_factor: float = 1.35
    speed_kmh: float = 22.0
    reference_latitude: float = 10.78  # Ho Chi Minh City; sets the east-west scale of the plane

    def minutes(self, origin: Point, destination: Point) -> float:
        lat1, lat2 = math.radians(origin.y), math.radians(destination.y)
        half_dlat = (lat2 - lat1) / 2
        half_dlng = math.radians(destination.x - origin.x) / 2
        chord = math.sin(half_dlat) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(half_dlng) ** 2
        metres = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(chord))
        return metres * self.road_factor / self._metres_per_minute()

    def to_plane(self, point: Point) -> tuple[float, float]:
        scale = math.pi / 180 * EARTH_RADIUS_M
        return point.x * scale * math.cos(math.radians(self.reference_latitude)), point.y * scale

    def minutes_at_least(self, plane_metres: float) -> float:
        # The local projection can overstate distances by a little away from the reference latitude.
        return 0.95 * plane_metres * self.road_factor / self._metres_per_minute()

    def _metres_per_minute(self) -> float:
        return self.speed_kmh * 1000 / 60
