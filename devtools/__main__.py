import sys

from devtools.entry import main

sys.exit(main())
