"""``%datastore`` and ``%data``: datastores and versioned data assets from a notebook."""

from __future__ import annotations

import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbstudio.jupyter.arguments import parse_args, parse_assignments
from nbstudio.jupyter.errors import user_errors

DATASTORE_ACTIONS = ("list", "create", "show", "delete")
DATA_ACTIONS = ("list", "create", "show", "versions", "archive", "restore", "runs")


@magics_class
class DataMagics(Magics):
    @line_magic
    @magic_arguments()
    @argument("action", choices=DATASTORE_ACTIONS, help="What to do.")
    @argument("name", nargs="?", help="The datastore.")
    @argument("--url", help="create: s3://bucket/prefix, file:///folder, a local folder, ...")
    @argument(
        "--option", action="append", metavar="K=V", help="create: an fsspec option (no secrets)."
    )
    @argument("--description", default="", help="create: what it holds.")
    @user_errors
    def datastore(self, line: str):
        """Datastores: where data lives (credentials stay in the environment, never recorded).

        ::

            %datastore list
            %datastore create NAME --url s3://bucket/prefix [--option endpoint_url=http://...]
            %datastore show NAME
            %datastore delete NAME
        """
        from nbstudio import data

        args = parse_args(self.datastore, line)
        if args.action == "list":
            from nbstudio.data.catalog import datastores_table

            return datastores_table()
        if not args.name:
            raise UsageError(f"%datastore {args.action} needs a NAME.")
        if args.action == "create":
            if not args.url:
                raise UsageError("%datastore create NAME --url URL")
            options = parse_assignments(args.option, "--option", literal=False)
            return data.create_datastore(args.name, args.url, options, args.description)
        if args.action == "show":
            return data.get_datastore(args.name)
        data.delete_datastore(args.name)
        sys.stdout.write(f"Deleted datastore {args.name!r} (its data is left where it is).\n")
        return None

    @line_magic
    @magic_arguments()
    @argument("action", choices=DATA_ACTIONS, help="What to do.")
    @argument("name", nargs="?", help="NAME or NAME@VERSION (list: a text to search for).")
    @argument("--path", help="create: a path, s3:// URL or azureml://datastores/D/paths/P.")
    @argument("--type", choices=("uri_file", "uri_folder", "mltable"), help="create: the kind.")
    @argument("--datastore", help="create: the datastore --path is in, or --copy copies into.")
    @argument("--copy", action="store_true", help="create: copy the data into the datastore.")
    @argument("-t", "--tag", action="append", metavar="K=V", help="create: tag the version.")
    @argument("--description", default="", help="create: what the data is.")
    @argument("--hash", default="auto", choices=("auto", "full"), help="full: hash every byte.")
    @user_errors
    def data(self, line: str):
        """Data assets: immutable, content-hashed versions with the runs that read and wrote them.

        ::

            %data create NAME --path PATH_OR_URI [--type uri_file|uri_folder|mltable]
                              [--datastore D] [--copy] [-t k=v] [--hash full]
            %data list [TEXT]
            %data show NAME[@VERSION]      # with the runs that used it and the one that made it
            %data versions NAME
            %data archive NAME@VERSION     # restore NAME@VERSION undoes it
            %data runs NAME@VERSION        # mlflow.search_runs of the runs that read it

        In code: ``nbstudio.data.get("NAME@latest").to_pandas()``.
        """
        from nbstudio import data

        args = parse_args(self.data, line)
        if args.action == "list":
            return data.list_assets(args.name or "")
        if not args.name:
            raise UsageError(f"%data {args.action} needs a NAME, e.g. %data {args.action} wine")
        match args.action:
            case "create":
                if not args.path:
                    raise UsageError("%data create NAME --path PATH_OR_URI")
                return data.create(
                    args.name,
                    args.path,
                    type=args.type,
                    datastore=args.datastore,
                    copy=args.copy,
                    tags=parse_assignments(args.tag, "-t", literal=False),
                    description=args.description,
                    hash=args.hash,
                )
            case "show":
                return data.show(args.name)
            case "versions":
                return data.list_versions(args.name)
            case "archive" | "restore":
                return data.archive(args.name, restore=args.action == "restore")
            case _:
                return data.runs_using(args.name)
