"""`recmart feature-groups`: the CreateFeatureGroup requests of the three feature groups, as JSON."""

from __future__ import annotations

import json

import click

from recmart.feature_groups.groups import FEATURE_GROUPS, group, terraform_variables


def default_offline_uri() -> str | None:
    """`<lake>/features/sagemaker` when the lake is on S3 (where deploy/terraform puts the offline store)."""
    from recmart.config import command_settings

    lake = command_settings().lake
    return f"{lake}/features/sagemaker" if lake.startswith("s3://") else None


@click.command("feature-groups")
@click.option("--role-arn", default="arn:aws:iam::123456789012:role/recmart-feature-store", show_default=True,
              help="IAM role the Feature Store writes the offline store with.")
@click.option("--offline-s3-uri", default=None,
              help="Offline store location; default <RECMART_LAKE>/features/sagemaker when the lake is on S3.")
@click.option("--online/--offline-only", default=True, show_default=True, help="Also keep an online store.")
@click.option("--group", "names", multiple=True, help="Only these groups (name or users/items/interactions).")
@click.option("--terraform", is_flag=True, help="Print deploy/terraform's feature variables instead (tfvars JSON).")
def feature_groups(role_arn: str, offline_s3_uri: str | None, online: bool, names: tuple[str, ...],
                   terraform: bool) -> None:
    """Print the CreateFeatureGroup request of each feature group (JSON, one list)."""
    if terraform:
        click.echo(json.dumps(terraform_variables(), indent=2))
        return
    uri = offline_s3_uri or default_offline_uri()
    if not uri:
        raise click.UsageError("the lake is not on S3: give --offline-s3-uri s3://bucket/prefix")
    try:
        chosen = [group(n) for n in names] if names else FEATURE_GROUPS
        requests = [g.create_request(role_arn, uri, online) for g in chosen]
    except (KeyError, ValueError) as exc:
        raise click.UsageError(str(exc.args[0] if exc.args else exc)) from None
    click.echo(json.dumps(requests, indent=2))
