"""`python -m cakupan.targets.postgres docs [--write | --check]`: the published marts section of docs/postgres.md."""

from cakupan.targets.postgres.docs import main

raise SystemExit(main())
