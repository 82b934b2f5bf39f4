import sys

from pixelpilot.cli import main

sys.exit(main())
