"""``nbstudio data``: data assets from a terminal, like ``az ml data``.

Same verbs as ``%data`` in a notebook; ``--json`` prints the REST API's dicts.
"""

from __future__ import annotations

import argparse
import json
import sys

HELP = "Create, list, show, archive data asset versions and their lineage."


def configure(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    def verb(
        name: str, help: str, target: str | None = "NAME[@VERSION]"
    ) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help, description=help)
        if target:
            sub.add_argument("name", metavar=target)
        sub.add_argument("--json", action="store_true", help="Print JSON (the REST API's dicts).")
        sub.set_defaults(handler=run)
        return sub

    listing = verb("list", "List the assets with their latest version.", target=None)
    listing.add_argument("query", nargs="?", default="", help="Only names/tags containing this.")
    create = verb("create", "Create a version from a path, URL or datastore path.", "NAME")
    create.add_argument("--path", required=True, help="Path, s3:// URL or azureml:// URI.")
    create.add_argument("--type", choices=("uri_file", "uri_folder", "mltable"))
    create.add_argument("--datastore", help="The datastore the path is in, or to copy into.")
    create.add_argument("--copy", action="store_true", help="Copy the data into the datastore.")
    create.add_argument("-t", "--tag", action="append", default=[], metavar="K=V")
    create.add_argument("--description", default="")
    create.add_argument("--hash", default="auto", choices=("auto", "full"))
    verb("show", "Show a version with the runs that read it and the run that wrote it.")
    verb("versions", "List the versions of an asset.", "NAME")
    verb("archive", "Archive a version (latest skips it).", "NAME@VERSION")
    verb("restore", "Undo archive.", "NAME@VERSION")


def run(args: argparse.Namespace) -> int:
    from nbstudio.data import assets, catalog
    from nbstudio.errors import NbstudioError

    match args.verb:
        case "list":
            result = {"assets": catalog.assets_json(query=args.query)} if args.json else None
            text = None if args.json else catalog.list_assets(args.query).to_string(index=False)
        case "create":
            tags = {}
            for item in args.tag:
                key, sep, value = item.partition("=")
                if not sep or not key:
                    raise NbstudioError(f"-t {item!r}: expected KEY=VALUE")
                tags[key] = value
            asset = assets.create(
                args.name,
                args.path,
                type=args.type,
                datastore=args.datastore,
                copy=args.copy,
                tags=tags,
                description=args.description,
                hash=args.hash,
            )
            result, text = (asset.record.to_dict() if asset.record else {}), repr(asset)
        case "show":
            detail = catalog.show(args.name)
            name, _, version = args.name.partition("@")
            result = catalog.version_json(name, version or "latest") if args.json else None
            text = repr(detail)
        case "versions":
            result = catalog.versions_json(args.name) if args.json else None
            text = None if args.json else catalog.list_versions(args.name).to_string(index=False)
        case "archive" | "restore":
            record = catalog.archive(args.name, restore=args.verb == "restore")
            result, text = record.to_dict(), repr(record)
        case _:
            raise AssertionError(args.verb)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=1) + "\n")
    else:
        sys.stdout.write(f"{text}\n")
    return 0
