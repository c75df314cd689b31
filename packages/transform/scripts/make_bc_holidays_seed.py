"""Write the dbt seed `bc_statutory_holidays.csv`: British Columbia's statutory holidays.

Made once with the `holidays` library (python-holidays), which mmds does not depend on at run
time: a seed is all the feature model needs. Run it again, with the years extended, before the
seed's last year ends (a dbt test warns a year ahead):

    uv run --no-project --with holidays==0.108 \
        python packages/transform/scripts/make_bc_holidays_seed.py
"""

import csv
from pathlib import Path

import holidays

FIRST_YEAR = 2022  # the dataset's first year
LAST_YEAR = 2035
SEED = (
    Path(__file__).resolve().parents[1]
    / "src/mmds_transform/dbt_project/seeds/bc_statutory_holidays.csv"
)


def main() -> None:
    """Write every statutory holiday of British Columbia, observed days included."""
    days = holidays.country_holidays(
        "CA", subdiv="BC", years=range(FIRST_YEAR, LAST_YEAR + 1), categories=("public",)
    )
    with SEED.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["holiday_date", "holiday_name"])
        for day, name in sorted(days.items()):
            writer.writerow([day.isoformat(), name])
    print(
        f"{SEED.name}: {len(days)} days, {FIRST_YEAR}-{LAST_YEAR} (holidays {holidays.__version__})"
    )


if __name__ == "__main__":
    main()
