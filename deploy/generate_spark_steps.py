"""Write deploy/terraform/spark_steps.auto.tfvars.json: the Spark steps that get a Glue job.

The list is every step the artefacts ship a driver script for (`recmart.aws.packaging.
job_scripts`: the declared SQL steps of `recmart.steps.REGISTRY` and the PySpark job files),
so Terraform creates a Glue job `recmart-<step>` for exactly the steps the code can run on
Spark. recmart_tests/deploy checks that the committed file equals this script's output.

    python deploy/generate_spark_steps.py          # rewrite the file
    python deploy/generate_spark_steps.py --check  # exit 1 if the file is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "terraform" / "spark_steps.auto.tfvars.json"


def render() -> str:
    from recmart.aws.packaging import job_scripts

    return json.dumps({"spark_steps": sorted(job_scripts())}, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date: run python deploy/generate_spark_steps.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
