"""Interaction matrices of a trailing window -> time-decayed implicit-feedback scores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from recmart.tables import CURATED_INTERACTION_SCORES


@dataclass(frozen=True)
class ScoreSettings:
    """How much each signal counts and how fast it fades. Defaults are documented in README."""

    window_days: int = 30
    half_life_days: float = 7.0
    view_weight: float = 1.0
    add_to_cart_weight: float = 4.0
    remove_from_cart_weight: float = -2.0
    purchase_weight: float = 10.0

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError(f"window_days must be at least 1, got {self.window_days}")
        if self.half_life_days <= 0:
            raise ValueError(f"half_life_days must be positive, got {self.half_life_days}")


def interaction_scores(matrices: DataFrame, day: dt.date, settings: ScoreSettings) -> DataFrame:
    """score = sum over days d in the window of weight(d) * 0.5 ** ((day - d) / half_life).

    `matrices` holds interaction-matrix rows with their `event_date`; rows outside
    (day - window_days, day] are ignored, so a caller may pass more.
    """
    start = day - dt.timedelta(days=settings.window_days - 1)
    m = matrices.where((F.col("event_date") >= F.lit(start)) & (F.col("event_date") <= F.lit(day)))
    age = F.datediff(F.lit(day), F.col("event_date"))
    decay = F.pow(F.lit(0.5), age / F.lit(settings.half_life_days))
    weight = (
        F.col("views") * settings.view_weight
        + F.col("add_to_carts") * settings.add_to_cart_weight
        + F.col("remove_from_carts") * settings.remove_from_cart_weight
        + F.col("purchases") * settings.purchase_weight
    )
    return (
        m.groupBy("user_id", "product_id")
        .agg(
            F.sum(weight * decay).alias("score"),
            *(F.sum(c).cast("bigint").alias(c) for c in ("views", "add_to_carts", "remove_from_carts", "purchases", "units")),
            F.sum("revenue").cast("decimal(18,2)").alias("revenue"),
            F.countDistinct("event_date").cast("int").alias("active_days"),
            F.max("last_event_time").alias("last_event_time"),
        )
        .select(*CURATED_INTERACTION_SCORES.column_names)
    )
