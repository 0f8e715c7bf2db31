"""`python -m cakupan.targets.postgres docs [--write | --check]`: the published marts section of docs/postgres.md."""

from cakupan.targets.postgres import _main

raise SystemExit(_main())
