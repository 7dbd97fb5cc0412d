import sys

from cyclebench.cli import main

sys.exit(main())
